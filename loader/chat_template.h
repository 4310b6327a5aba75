#pragma once
// Gemma 4 chat formatting (gemma4-model.md §5.5): a dedicated C++ renderer that produces exactly
// what the Jinja template embedded in Gemma 4 GGUFs (tokenizer.chat_template) renders under
// Jinja2 with trim_blocks, lstrip_blocks and bos_token = "<bos>".
//
// Input (nlohmann::json object):
//   {"messages": [{"role": ..., "content": ...}, ...],   required, non-empty
//    "add_generation_prompt": bool,                       default true
//    "enable_thinking": bool,                             default false
//    "tools": [{"type": "function", "function": {...}}]}  optional
// Roles: "system" / "developer" (first message: merged into the system turn), "user",
// "assistant" (rendered as "model"), "model", and "tool" (results for the preceding assistant
// message's tool_calls). Message fields used: content (string, or array of {"type": "text",
// "text"} / {"type": "image" | "audio" | "video"} parts), tool_calls ([{"id", "function":
// {"name", "arguments": object | string}}]), tool_responses ([{"name", "response"}]),
// reasoning / reasoning_content (rendered only for a tool-calling assistant turn after the last
// user message), and for role "tool": tool_call_id, name, content.
//
// The result starts with "<bos>": strip it (or tokenize with add_bos = false and parse_special =
// true) so the prompt holds exactly one BOS (§5.3 step 6).
//
// Errors: std::invalid_argument "[chat_template] <field>: <problem>", naming the JSON field
// (e.g. "messages[2].role"), for an unknown role, a wrong type, or an input on which the Jinja
// template itself would fail (e.g. a tool result that cannot be matched to a function name).

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace vkllm {

std::string render_gemma4_chat(const nlohmann::json& conversation);

}  // namespace vkllm
