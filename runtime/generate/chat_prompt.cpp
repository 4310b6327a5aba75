#include "runtime/generate/chat_prompt.h"

#include <nlohmann/json.hpp>

#include "loader/chat_template.h"

namespace vkllm {

std::vector<int32_t> encode_rendered_prompt(const Tokenizer& tokenizer, std::string_view rendered) {
    constexpr std::string_view k_bos_text = "<bos>";
    if (rendered.substr(0, k_bos_text.size()) == k_bos_text)
        rendered.remove_prefix(k_bos_text.size());
    return tokenizer.encode(rendered, /*add_bos=*/true, /*parse_special=*/true);
}

std::vector<int32_t> encode_chat_prompt(const Tokenizer& tokenizer,
                                        const nlohmann::json& conversation) {
    return encode_rendered_prompt(tokenizer, render_gemma4_chat(conversation));
}

}  // namespace vkllm
