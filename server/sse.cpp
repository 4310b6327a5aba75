#include "server/sse.h"

#include "server/json_body.h"

namespace vkllm::server {

std::string sse_event(const nlohmann::json& payload) {
    return "data: " + dump_json(payload) + "\n\n";
}

std::string sse_done() {
    return "data: [DONE]\n\n";
}

}  // namespace vkllm::server
