#pragma once
// A request the server refuses: HTTP status plus the OpenAI error object
// {"error": {"message", "type", "param", "code"}}. Thrown by parsing and validation, caught once at
// the route boundary (style.md §2.4).

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace vkllm::server {

class RequestError : public std::runtime_error {
  public:
    // `param` names the offending field ("messages[1].role"), empty when none applies. `code` is a
    // stable machine-readable reason ("model_not_found"), empty when none applies.
    RequestError(int status, const std::string& message, std::string param = {},
                 std::string code = {})
        : std::runtime_error(message),
          status_(status),
          param_(std::move(param)),
          code_(std::move(code)) {}

    int status() const { return status_; }
    const std::string& param() const { return param_; }
    const std::string& code() const { return code_; }

  private:
    int status_;
    std::string param_;
    std::string code_;
};

// OpenAI's error "type" for a status: invalid_request_error, authentication_error, ...
const char* error_type_for_status(int status);

// {"error": {...}}; param and code are null when empty.
nlohmann::json error_json(int status, const std::string& message, const std::string& param = {},
                          const std::string& code = {});
inline nlohmann::json error_json(const RequestError& e) {
    return error_json(e.status(), e.what(), e.param(), e.code());
}

}  // namespace vkllm::server
