#include "server/chat_output.h"

#include <algorithm>

namespace vkllm::server {
namespace {

constexpr std::string_view k_channel_open = "<|channel>";
constexpr std::string_view k_channel_close = "<channel|>";
constexpr std::string_view k_call_open = "<|tool_call>";
constexpr std::string_view k_call_close = "<tool_call|>";
// A channel name longer than this is not a name: give up waiting for its newline.
constexpr size_t k_max_channel_name = 32;

// Length of the longest suffix of `text` that is a proper prefix of `marker`.
size_t partial_marker(std::string_view text, std::string_view marker) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n) {
        if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
    }
    return 0;
}

}  // namespace

void ChatDelta::append(ChatDelta&& other) {
    content += other.content;
    reasoning += other.reasoning;
    for (auto& c : other.tool_calls) tool_calls.push_back(std::move(c));
}

void ChatOutputParser::step_content(ChatDelta& out, bool& progressed) {
    const size_t ch = pending_.find(k_channel_open);
    const size_t call = parse_tool_calls_ ? pending_.find(k_call_open) : std::string::npos;
    const size_t at = std::min(ch, call);
    if (at != std::string::npos) {
        out.content.append(pending_, 0, at);
        const bool is_call = at == call;
        pending_.erase(0, at + (is_call ? k_call_open.size() : k_channel_open.size()));
        mode_ = is_call ? Mode::ToolCall : Mode::ChannelName;
        progressed = true;
        return;
    }
    size_t hold = partial_marker(pending_, k_channel_open);
    if (parse_tool_calls_) hold = std::max(hold, partial_marker(pending_, k_call_open));
    out.content.append(pending_, 0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
}

void ChatOutputParser::step_channel_name(bool final, bool& progressed) {
    const size_t nl = pending_.find('\n');
    const size_t close = pending_.find(k_channel_close);
    if (close != std::string::npos && (nl == std::string::npos || close < nl)) {
        pending_.erase(0, close);  // "<|channel>thought<channel|>": an empty channel
        mode_ = Mode::Reasoning;
        progressed = true;
    } else if (nl != std::string::npos) {
        pending_.erase(0, nl + 1);
        mode_ = Mode::Reasoning;
        progressed = true;
    } else if (final || pending_.size() > k_max_channel_name) {
        mode_ = Mode::Reasoning;
        progressed = true;
    }
}

void ChatOutputParser::step_reasoning(ChatDelta& out, bool& progressed) {
    const size_t close = pending_.find(k_channel_close);
    if (close != std::string::npos) {
        out.reasoning.append(pending_, 0, close);
        pending_.erase(0, close + k_channel_close.size());
        mode_ = Mode::Content;
        progressed = true;
        return;
    }
    const size_t hold = partial_marker(pending_, k_channel_close);
    out.reasoning.append(pending_, 0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
}

void ChatOutputParser::step_tool_call(ChatDelta& out, bool& progressed) {
    const size_t close = pending_.find(k_call_close);
    if (close == std::string::npos) return;
    std::string_view body(pending_.data(), close);
    while (!body.empty() && (body.back() == ' ' || body.back() == '\n')) body.remove_suffix(1);
    if (auto call = parse_tool_call(body)) {
        out.tool_calls.push_back(std::move(*call));
    } else {
        // Not a call we understand: show the client what the model wrote instead of dropping it.
        out.content += std::string(k_call_open) + pending_.substr(0, close + k_call_close.size());
    }
    pending_.erase(0, close + k_call_close.size());
    mode_ = Mode::Content;
    progressed = true;
}

ChatDelta ChatOutputParser::push(std::string_view text) {
    pending_.append(text);
    ChatDelta out;
    bool progressed = true;
    while (progressed) {
        progressed = false;
        switch (mode_) {
            case Mode::Content:
                step_content(out, progressed);
                break;
            case Mode::ChannelName:
                step_channel_name(false, progressed);
                break;
            case Mode::Reasoning:
                step_reasoning(out, progressed);
                break;
            case Mode::ToolCall:
                step_tool_call(out, progressed);
                break;
        }
    }
    return out;
}

ChatDelta ChatOutputParser::finish() {
    ChatDelta out = push("");
    if (mode_ == Mode::ChannelName) {
        bool progressed = false;
        step_channel_name(true, progressed);
    }
    switch (mode_) {
        case Mode::Content:
            out.content += pending_;
            break;
        case Mode::ChannelName:
        case Mode::Reasoning:
            out.reasoning += pending_;
            break;
        case Mode::ToolCall: {
            // Generation ended inside a call (length limit): the text is all there is.
            std::string_view body = pending_;
            if (auto call = parse_tool_call(body))
                out.tool_calls.push_back(std::move(*call));
            else
                out.content += std::string(k_call_open) + pending_;
            break;
        }
    }
    pending_.clear();
    mode_ = Mode::Content;
    return out;
}

}  // namespace vkllm::server
