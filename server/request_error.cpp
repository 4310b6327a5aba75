#include "server/request_error.h"

namespace vkllm::server {

const char* error_type_for_status(int status) {
    switch (status) {
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 408:
            return "timeout_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
            return "unavailable_error";
        default:
            return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

nlohmann::json error_json(int status, const std::string& message, const std::string& param,
                          const std::string& code) {
    nlohmann::json err = {{"message", message},
                          {"type", error_type_for_status(status)},
                          {"param", nullptr},
                          {"code", nullptr}};
    if (!param.empty()) err["param"] = param;
    if (!code.empty()) err["code"] = code;
    return {{"error", std::move(err)}};
}

}  // namespace vkllm::server
