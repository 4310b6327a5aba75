#include "server/json_body.h"

#include "server/request_error.h"

namespace vkllm::server {

nlohmann::json parse_json_object(std::string_view body) {
    if (body.empty()) throw RequestError(400, "the request body is empty; expected a JSON object");
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(body.begin(), body.end());
    } catch (const nlohmann::json::parse_error& e) {
        // e.byte is 1-based: the byte at which the parser gave up.
        std::string what = e.what();
        const size_t colon = what.find("error: ");
        const std::string detail = colon == std::string::npos ? what : what.substr(colon + 7);
        throw RequestError(400, "invalid JSON at byte " + std::to_string(e.byte) + ": " + detail,
                           {}, "invalid_json");
    }
    if (!value.is_object()) {
        throw RequestError(
            400, std::string("the request body must be a JSON object, not ") + value.type_name());
    }
    return value;
}

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vkllm::server
