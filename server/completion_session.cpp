#include "server/completion_session.h"

#include "server/json_body.h"
#include "server/request_error.h"
#include "server/sse.h"

namespace vkllm::server {
namespace {

using nlohmann::json;

json bytes_of(const std::string& piece) {
    json out = json::array();
    for (char c : piece) out.push_back(static_cast<unsigned char>(c));
    return out;
}

}  // namespace

CompletionSession::CompletionSession(const CompletionRequest& request, SessionInfo info,
                                     std::shared_ptr<Responder> out, Metrics& metrics)
    : endpoint_(request.endpoint),
      stream_(request.stream),
      include_usage_(request.include_usage),
      logprobs_(request.logprobs),
      info_(std::move(info)),
      out_(std::move(out)),
      metrics_(metrics),
      parser_(request.parse_tool_calls) {
    completion_logprobs_ = {{"tokens", json::array()},
                            {"token_logprobs", json::array()},
                            {"top_logprobs", json::array()},
                            {"text_offset", json::array()}};
}

json CompletionSession::chunk_base() const {
    return {{"id", info_.id},
            {"object", endpoint_ == Endpoint::Chat ? "chat.completion.chunk" : "text_completion"},
            {"created", info_.created},
            {"model", info_.model}};
}

void CompletionSession::start() {
    if (!stream_) return;
    out_->start_stream(200, "text/event-stream");
    if (endpoint_ == Endpoint::Chat) {
        json chunk = chunk_base();
        chunk["choices"] = json::array({{{"index", 0},
                                         {"delta", {{"role", "assistant"}, {"content", ""}}},
                                         {"logprobs", nullptr},
                                         {"finish_reason", nullptr}}});
        out_->stream(sse_event(chunk));
    }
}

json CompletionSession::chat_logprobs(const std::vector<TokenLogprob>& lps) const {
    json content = json::array();
    for (const TokenLogprob& lp : lps) {
        json top = json::array();
        for (const TokenAlternative& alt : lp.top) {
            top.push_back(
                {{"token", alt.piece}, {"logprob", alt.logprob}, {"bytes", bytes_of(alt.piece)}});
        }
        content.push_back({{"token", lp.piece},
                           {"logprob", lp.logprob},
                           {"bytes", bytes_of(lp.piece)},
                           {"top_logprobs", std::move(top)}});
    }
    return content;
}

void CompletionSession::append_completion_logprobs(const std::vector<TokenLogprob>& lps,
                                                   json& into) {
    for (const TokenLogprob& lp : lps) {
        into["tokens"].push_back(lp.piece);
        into["token_logprobs"].push_back(lp.logprob);
        json top = json::object();
        for (const TokenAlternative& alt : lp.top) top[alt.piece] = alt.logprob;
        into["top_logprobs"].push_back(std::move(top));
        into["text_offset"].push_back(text_offset_);
        text_offset_ += lp.piece.size();
    }
}

json CompletionSession::tool_call_json(const ToolCall& call, size_t index) {
    return {{"index", index},
            {"id", info_.id + "-call-" + std::to_string(index)},
            {"type", "function"},
            {"function", {{"name", call.name}, {"arguments", dump_json(call.arguments)}}}};
}

void CompletionSession::emit_chat_delta(ChatDelta&& delta, const std::vector<TokenLogprob>& lps) {
    if (!stream_) {
        message_.append(std::move(delta));
        if (logprobs_) {
            for (auto& item : chat_logprobs(lps)) logprob_content_.push_back(std::move(item));
        }
        return;
    }
    if (delta.empty() && lps.empty()) return;
    json d = json::object();
    if (!delta.reasoning.empty()) d["reasoning_content"] = delta.reasoning;
    if (!delta.content.empty()) d["content"] = delta.content;
    if (!delta.tool_calls.empty()) {
        json calls = json::array();
        for (const ToolCall& c : delta.tool_calls)
            calls.push_back(tool_call_json(c, tool_calls_++));
        d["tool_calls"] = std::move(calls);
    }
    json chunk = chunk_base();
    json choice = {
        {"index", 0}, {"delta", std::move(d)}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (logprobs_ && !lps.empty()) choice["logprobs"] = {{"content", chat_logprobs(lps)}};
    chunk["choices"] = json::array({std::move(choice)});
    out_->stream(sse_event(chunk));
}

void CompletionSession::emit_text(std::string text, const std::vector<TokenLogprob>& lps) {
    if (!stream_) {
        text_ += text;
        if (logprobs_) append_completion_logprobs(lps, completion_logprobs_);
        return;
    }
    if (text.empty() && lps.empty()) return;
    json choice = {
        {"index", 0}, {"text", std::move(text)}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    if (logprobs_) {
        json lp = {{"tokens", json::array()},
                   {"token_logprobs", json::array()},
                   {"top_logprobs", json::array()},
                   {"text_offset", json::array()}};
        append_completion_logprobs(lps, lp);
        choice["logprobs"] = std::move(lp);
    }
    json chunk = chunk_base();
    chunk["choices"] = json::array({std::move(choice)});
    out_->stream(sse_event(chunk));
}

void CompletionSession::on_event(GenerationEvent&& event) {
    if (done_) return;
    if (endpoint_ == Endpoint::Chat) {
        ChatDelta delta = parser_.push(event.text);
        if (event.finish != Finish::None) delta.append(parser_.finish());
        emit_chat_delta(std::move(delta), event.logprobs);
    } else {
        emit_text(std::move(event.text), event.logprobs);
    }
    if (event.finish != Finish::None) finish(event);
}

json CompletionSession::usage(const GenerationEvent& last) const {
    return {{"prompt_tokens", last.prompt_tokens},
            {"completion_tokens", last.completion_tokens},
            {"total_tokens", last.prompt_tokens + last.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", last.cached_tokens}}}};
}

std::string CompletionSession::finish_reason(const GenerationEvent& last) const {
    if (endpoint_ == Endpoint::Chat && (tool_calls_ > 0 || !message_.tool_calls.empty())) {
        return "tool_calls";
    }
    return finish_name(last.finish);
}

void CompletionSession::finish(const GenerationEvent& last) {
    done_ = true;
    if (last.finish == Finish::Cancelled && last.error.empty()) {
        out_->abort();  // the client is gone: nobody to tell
        return;
    }
    if (last.finish == Finish::Error || last.finish == Finish::Cancelled) {
        // A failed model step (500), or a server that is stopping (503).
        const int status = last.finish == Finish::Error ? 500 : 503;
        const std::string msg = status == 500 ? "generation failed: " + last.error : last.error;
        if (stream_) {
            out_->stream(sse_event(error_json(status, msg)));
            out_->stream(sse_done());
            out_->end_stream();
        } else {
            out_->respond(status, "application/json", dump_json(error_json(status, msg)));
        }
        return;
    }
    const std::string reason = finish_reason(last);
    if (stream_) {
        json chunk = chunk_base();
        json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", reason}};
        if (endpoint_ == Endpoint::Chat)
            choice["delta"] = json::object();
        else
            choice["text"] = "";
        chunk["choices"] = json::array({std::move(choice)});
        out_->stream(sse_event(chunk));
        if (include_usage_) {
            json u = chunk_base();
            u["choices"] = json::array();
            u["usage"] = usage(last);
            out_->stream(sse_event(u));
        }
        out_->stream(sse_done());
        out_->end_stream();
        return;
    }
    json body = {{"id", info_.id},
                 {"object", endpoint_ == Endpoint::Chat ? "chat.completion" : "text_completion"},
                 {"created", info_.created},
                 {"model", info_.model},
                 {"usage", usage(last)}};
    json choice = {{"index", 0}, {"finish_reason", reason}, {"logprobs", nullptr}};
    if (endpoint_ == Endpoint::Chat) {
        json msg = {{"role", "assistant"}, {"content", message_.content}};
        if (!message_.reasoning.empty()) msg["reasoning_content"] = message_.reasoning;
        if (!message_.tool_calls.empty()) {
            json calls = json::array();
            for (const ToolCall& c : message_.tool_calls)
                calls.push_back(tool_call_json(c, tool_calls_++));
            msg["tool_calls"] = std::move(calls);
            if (message_.content.empty()) msg["content"] = nullptr;
        }
        choice["message"] = std::move(msg);
        if (logprobs_) choice["logprobs"] = {{"content", logprob_content_}};
    } else {
        choice["text"] = text_;
        if (logprobs_) choice["logprobs"] = completion_logprobs_;
    }
    body["choices"] = json::array({std::move(choice)});
    out_->respond(200, "application/json", dump_json(body));
}

}  // namespace vkllm::server
