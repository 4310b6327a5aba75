#pragma once
// The model-free parts of the text commands (tokenize, detokenize, template, score's --tokens),
// kept apart from the entry points so unit tests can call them.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkllm::cli {

// All bytes of `in` (stdin is read in binary; nothing is stripped).
std::string read_all(std::FILE* in);

// "[2,9259,1902]" with `json`, else "2 9259 1902"; no trailing newline.
std::string format_token_ids(std::span<const int32_t> ids, bool json);

// Ids from a JSON array ("[1, 2]") or from integers separated by whitespace and/or commas.
// Throws std::invalid_argument naming the offending item, and for an id outside
// [0, vocab_size) when vocab_size > 0.
std::vector<int32_t> parse_token_ids(std::string_view text, size_t vocab_size);

// `vkllm template`: renders {"messages", "add_generation_prompt", "enable_thinking", "tools"}
// given as JSON text. Throws std::invalid_argument with the byte offset for malformed JSON and
// the renderer's field-naming message for a bad conversation.
std::string render_template_request(std::string_view json_text);

// `vkllm score` output: {"positions": [{"top": [[id, logprob], ...]}, ...]} (one line). A -inf
// logprob, which JSON cannot hold, is written as null.
std::string format_score_json(const std::vector<std::vector<std::pair<int32_t, float>>>& positions);

}  // namespace vkllm::cli
