#pragma once
// Splits streamed Gemma 4 chat output into OpenAI's three channels:
//   <|channel>thought\n ... <channel|>            -> reasoning_content
//   <|tool_call>call:NAME{...}<tool_call|>        -> tool_calls (when tools were declared)
//   everything else                               -> content
// Text arrives in arbitrary pieces, so a suffix that could still become a marker is held back
// until the next piece decides it; finish() releases whatever is left.

#include <string>
#include <string_view>
#include <vector>

#include "server/tool_call_parser.h"

namespace vkllm::server {

struct ChatDelta {
    std::string content;
    std::string reasoning;
    std::vector<ToolCall> tool_calls;
    bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
    void append(ChatDelta&& other);
};

class ChatOutputParser {
  public:
    explicit ChatOutputParser(bool parse_tool_calls) : parse_tool_calls_(parse_tool_calls) {}

    ChatDelta push(std::string_view text);
    ChatDelta finish();

  private:
    enum class Mode { Content, ChannelName, Reasoning, ToolCall };

    void step_content(ChatDelta& out, bool& progressed);
    void step_channel_name(bool final, bool& progressed);
    void step_reasoning(ChatDelta& out, bool& progressed);
    void step_tool_call(ChatDelta& out, bool& progressed);

    bool parse_tool_calls_;
    Mode mode_ = Mode::Content;
    std::string pending_;
};

}  // namespace vkllm::server
