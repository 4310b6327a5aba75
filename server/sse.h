#pragma once
// Server-Sent Events framing for OpenAI streams: one "data: <json>" event per chunk, then
// "data: [DONE]". JSON is dumped on one line, so no payload line needs splitting.

#include <nlohmann/json.hpp>
#include <string>

namespace vkllm::server {

std::string sse_event(const nlohmann::json& payload);
std::string sse_done();

}  // namespace vkllm::server
