#pragma once
// A chat conversation to prompt token ids: render with the Gemma 4 template, drop the "<bos>" it
// starts with and let the tokenizer add the BOS id, so the prompt holds exactly one BOS
// (gemma4-model.md §5.3 step 6); control-token texts such as "<|turn>" become their ids.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <vector>

#include "loader/tokenizer.h"

namespace vkllm {

// `conversation` as render_gemma4_chat takes it; throws its std::invalid_argument naming the field.
std::vector<int32_t> encode_chat_prompt(const Tokenizer& tokenizer,
                                        const nlohmann::json& conversation);

// Ids of an already rendered prompt (with or without its leading "<bos>").
std::vector<int32_t> encode_rendered_prompt(const Tokenizer& tokenizer, std::string_view rendered);

}  // namespace vkllm
