#pragma once
// Internals of the Gemma 4 chat renderer: the Jinja/Python value semantics the template relies on
// (truthiness, str(), dictsort, trim, upper) and its formatting macros. Not a public API.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkllm::chat_detail {

using json = nlohmann::json;

inline constexpr std::string_view k_quote = "<|\"|>";  // the template's string delimiter token

[[noreturn]] void fail(const std::string& field, const std::string& problem);

// obj[key] with Jinja semantics: nullptr ("undefined") when obj is not an object or lacks key.
const json* member(const json* obj, const char* key);
// Python truthiness; undefined is false.
bool truthy(const json* v);
// Python str(): strings as is, True/False/None, Python float repr, list/dict reprs; "" for
// undefined.
std::string py_str(const json* v);
// Python str.strip(): Unicode whitespace at both ends.
std::string py_trim(std::string_view s);
// Jinja's |upper for ASCII letters (non-ASCII letters are left unchanged).
std::string ascii_upper(std::string s);
// Jinja's |dictsort: items by case-insensitive key. Throws if v is not an object.
std::vector<std::pair<std::string, const json*>> dictsort(const json& v, const std::string& field);
// What a Jinja for-loop visits: array elements, object keys, string characters.
std::vector<json> iterate(const json& v, const std::string& field);

// The template's macros.
std::string format_argument(const json& v, bool escape_keys);
std::string format_parameters(const json& properties, const std::string& field);
std::string format_function_declaration(const json& tool, const std::string& field);
std::string strip_thinking(std::string_view text);
std::string format_tool_response_block(const std::string& name, const json& response);

}  // namespace vkllm::chat_detail
