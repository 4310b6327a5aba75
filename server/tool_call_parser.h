#pragma once
// Gemma 4 tool calls back to OpenAI's shape. The model writes
//   <|tool_call>call:NAME{key:value,...}<tool_call|>
// where strings are wrapped in the <|"|> token, keys are bare, and numbers, booleans, lists and
// nested objects are written as in the template's format_argument (gemma4-model.md §5.5).
// parse_tool_call() takes the text between the two markers.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vkllm::server {

struct ToolCall {
    std::string name;
    nlohmann::json arguments;  // an object
};

// Parses "call:NAME{...}". Returns nullopt when the text is not a well-formed call (the caller
// then passes it through as plain content rather than inventing arguments).
std::optional<ToolCall> parse_tool_call(std::string_view text);

}  // namespace vkllm::server
