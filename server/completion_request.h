#pragma once
// OpenAI request bodies (POST /v1/chat/completions and /v1/completions) to one validated
// CompletionRequest. Every rejection is a RequestError 400 naming the field; fields the server
// does not use (user, metadata, ...) are ignored, as OpenAI clients send them freely.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/generate/sampler.h"

namespace vkllm::server {

enum class Endpoint { Chat, Completion };

struct CompletionRequest {
    Endpoint endpoint = Endpoint::Chat;
    std::string model;  // empty: the client did not name one
    // Chat: the render_gemma4_chat input {messages, add_generation_prompt, enable_thinking, tools}.
    nlohmann::json conversation;
    // Completion: the prompt as text, or as token ids when prompt_is_tokens.
    std::string prompt_text;
    std::vector<int32_t> prompt_tokens;
    bool prompt_is_tokens = false;

    bool stream = false;
    bool include_usage = false;          // stream_options.include_usage
    std::optional<uint32_t> max_tokens;  // absent: until the context or the server limit
    SamplingParams sampling;
    bool seed_given = false;
    std::vector<std::string> stop;
    bool logprobs = false;
    uint32_t top_logprobs = 0;
    bool enable_thinking = false;
    bool ignore_eos = false;        // extension (benchmarks): end-of-generation tokens are banned
    bool parse_tool_calls = false;  // tools were declared (and tool_choice is not "none")
};

struct RequestLimits {
    uint32_t max_tokens_limit = 4096;  // largest max_tokens a client may ask for
    uint32_t n_vocab = 0;              // for logit_bias and token prompts
    uint32_t max_stop_strings = 16;
    uint32_t max_top_logprobs = 20;
};

CompletionRequest parse_chat_request(const nlohmann::json& body, const RequestLimits& limits);
CompletionRequest parse_completion_request(const nlohmann::json& body, const RequestLimits& limits);

}  // namespace vkllm::server
