#pragma once
// One OpenAI completion in flight: turns engine events into the response, as one JSON body or as
// an SSE stream of chunks (chat.completion.chunk / text_completion), with reasoning, tool calls,
// log-probs, finish_reason and usage. Lives on the network thread; the engine's events reach it
// through asio::post, and it holds the Responder until the request ends.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "loader/tokenizer.h"
#include "server/chat_output.h"
#include "server/completion_request.h"
#include "server/engine.h"
#include "server/metrics.h"
#include "server/responder.h"

namespace vkllm::server {

struct SessionInfo {
    std::string id;     // "chatcmpl-..." / "cmpl-..."
    std::string model;  // as reported in responses
    int64_t created = 0;
};

class CompletionSession {
  public:
    CompletionSession(const CompletionRequest& request, SessionInfo info,
                      std::shared_ptr<Responder> out, Metrics& metrics);

    // Sends the stream head and the opening chunk (streaming only). Call once, after submit.
    void start();
    void on_event(GenerationEvent&& event);

  private:
    nlohmann::json chunk_base() const;
    nlohmann::json chat_logprobs(const std::vector<TokenLogprob>& lps) const;
    void append_completion_logprobs(const std::vector<TokenLogprob>& lps, nlohmann::json& into);
    void emit_chat_delta(ChatDelta&& delta, const std::vector<TokenLogprob>& lps);
    void emit_text(std::string text, const std::vector<TokenLogprob>& lps);
    void finish(const GenerationEvent& last);
    nlohmann::json usage(const GenerationEvent& last) const;
    nlohmann::json tool_call_json(const ToolCall& call, size_t index);
    std::string finish_reason(const GenerationEvent& last) const;

    Endpoint endpoint_;
    bool stream_;
    bool include_usage_;
    bool logprobs_;
    SessionInfo info_;
    std::shared_ptr<Responder> out_;
    Metrics& metrics_;
    ChatOutputParser parser_;

    // Non-streaming accumulation.
    ChatDelta message_;
    std::string text_;
    nlohmann::json logprob_content_ = nlohmann::json::array();  // chat
    nlohmann::json completion_logprobs_;                        // completions
    size_t text_offset_ = 0;
    size_t tool_calls_ = 0;
    bool done_ = false;
};

}  // namespace vkllm::server
