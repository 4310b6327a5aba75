#pragma once
// Request bodies to JSON objects, with errors a client can act on: the byte offset of a syntax
// error or of invalid UTF-8 (nlohmann's throwing parser reports both), and "must be an object".

#include <nlohmann/json.hpp>
#include <string_view>

namespace vkllm::server {

// Throws RequestError 400 for an empty body, malformed JSON, invalid UTF-8 in a string, or a
// top-level value that is not an object.
nlohmann::json parse_json_object(std::string_view body);

// Serializes a response. Text that came from the model is valid UTF-8 by construction (the
// detokenizer guarantees it); anything else is replaced with U+FFFD rather than thrown.
std::string dump_json(const nlohmann::json& value);

}  // namespace vkllm::server
