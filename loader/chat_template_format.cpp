// Jinja/Python value semantics and the formatting macros of the Gemma 4 chat template
// (format_argument, format_parameters, format_function_declaration, strip_thinking,
// format_tool_response_block), mirrored one to one.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "loader/chat_template_detail.h"
#include "loader/tokenizer_utf8.h"

namespace vkllm::chat_detail {
namespace {

bool is_py_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python repr() of a float: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16.
std::string py_float(double x) {
    if (x != x) return "nan";
    if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
    if (x > 1.7976931348623157e308) return "inf";
    if (x < -1.7976931348623157e308) return "-inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
    const std::string sci(buf, res.ptr);  // "-d.ddde+XX"
    const size_t e = sci.find('e');
    const bool negative = sci[0] == '-';
    std::string digits;
    for (size_t i = negative ? 1 : 0; i < e; ++i) {
        if (sci[i] != '.') digits.push_back(sci[i]);
    }
    const int exp10 = std::stoi(sci.substr(e + 1));
    std::string out = negative ? "-" : "";
    if (exp10 >= -4 && exp10 < 16) {
        const int point = exp10 + 1;  // digits before the decimal point
        const auto n = static_cast<int>(digits.size());
        if (point <= 0) {
            out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
        } else if (point >= n) {
            out += digits + std::string(static_cast<size_t>(point - n), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(point)) + "." +
                   digits.substr(static_cast<size_t>(point));
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof(exp_text), "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + exp_text;
}

std::string py_repr(const json& v);

std::string py_repr_string(const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos;
    const bool has_double = s.find('"') != std::string::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (c == '\\' || c == quote) {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (b < 0x20 || b == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", b);
            out += hex;
        } else {
            out += c;
        }
    }
    return out + quote;
}

std::string py_repr(const json& v) {
    if (v.is_string()) return py_repr_string(v.get_ref<const std::string&>());
    if (v.is_array()) {
        std::string out = "[";
        for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
        return out + "]";
    }
    if (v.is_object()) {
        std::string out = "{";
        bool first = true;
        for (const auto& [k, item] : v.items()) {
            out += (first ? "" : ", ") + py_repr_string(k) + ": " + py_repr(item);
            first = false;
        }
        return out + "}";
    }
    return py_str(&v);
}

std::string quoted(const std::string& s) {
    return std::string(k_quote) + s + std::string(k_quote);
}

// `<|"|>a<|"|>,<|"|>b<|"|>` for the items of a "required" list.
std::string quoted_list(const json& items, const std::string& field) {
    std::string out;
    bool first = true;
    for (const json& item : iterate(items, field)) {
        out += (first ? "" : ",") + quoted(py_str(&item));
        first = false;
    }
    return out;
}

}  // namespace

void fail(const std::string& field, const std::string& problem) {
    throw std::invalid_argument("[chat_template] " + field + ": " + problem);
}

const json* member(const json* obj, const char* key) {
    if (obj == nullptr || !obj->is_object()) return nullptr;
    const auto it = obj->find(key);
    return it == obj->end() ? nullptr : &*it;
}

bool truthy(const json* v) {
    if (v == nullptr) return false;
    switch (v->type()) {
        case json::value_t::boolean:
            return v->get<bool>();
        case json::value_t::number_integer:
            return v->get<int64_t>() != 0;
        case json::value_t::number_unsigned:
            return v->get<uint64_t>() != 0;
        case json::value_t::number_float:
            return v->get<double>() != 0.0;
        case json::value_t::string:
            // nlohmann's empty() is false for every string, so ask the string itself.
            return !v->get_ref<const std::string&>().empty();
        case json::value_t::array:
        case json::value_t::object:
        case json::value_t::binary:
            return !v->empty();
        case json::value_t::null:
        case json::value_t::discarded:
            return false;
    }
    return false;
}

std::string py_str(const json* v) {
    if (v == nullptr) return "";
    switch (v->type()) {
        case json::value_t::string:
            return v->get<std::string>();
        case json::value_t::boolean:
            return v->get<bool>() ? "True" : "False";
        case json::value_t::null:
            return "None";
        case json::value_t::number_integer:
            return std::to_string(v->get<int64_t>());
        case json::value_t::number_unsigned:
            return std::to_string(v->get<uint64_t>());
        case json::value_t::number_float:
            return py_float(v->get<double>());
        default:
            return py_repr(*v);
    }
}

std::string py_trim(std::string_view s) {
    size_t begin = 0;
    while (begin < s.size()) {
        const utf8::ScanResult r = utf8::scan(s, begin);
        if (r.status != utf8::Scan::Valid || !is_py_space(utf8::decode(s, begin, r.length))) break;
        begin += r.length;
    }
    size_t end = s.size();
    while (end > begin) {
        size_t start = end - 1;  // back up to the lead byte of the last code point
        while (start > begin && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && end - start < 4)
            --start;
        const utf8::ScanResult r = utf8::scan(s, start);
        if (r.status != utf8::Scan::Valid || start + r.length != end ||
            !is_py_space(utf8::decode(s, start, r.length))) {
            break;
        }
        end = start;
    }
    return std::string(s.substr(begin, end - begin));
}

std::string ascii_upper(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
}

std::vector<std::pair<std::string, const json*>> dictsort(const json& v, const std::string& field) {
    if (!v.is_object()) fail(field, "expected an object, got " + std::string(v.type_name()));
    std::vector<std::pair<std::string, const json*>> items;
    for (const auto& [k, item] : v.items()) items.emplace_back(k, &item);
    const auto lower = [](std::string s) {
        for (char& c : s) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return s;
    };
    std::stable_sort(items.begin(), items.end(),
                     [&](const auto& a, const auto& b) { return lower(a.first) < lower(b.first); });
    return items;
}

std::vector<json> iterate(const json& v, const std::string& field) {
    std::vector<json> out;
    if (v.is_array()) {
        out.assign(v.begin(), v.end());
    } else if (v.is_object()) {
        for (const auto& [k, item] : v.items()) out.emplace_back(k);
    } else if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        for (size_t pos = 0; pos < s.size();) {
            const utf8::ScanResult r = utf8::scan(s, pos);
            const size_t len = r.status == utf8::Scan::Valid ? r.length : 1;
            out.emplace_back(s.substr(pos, len));
            pos += len;
        }
    } else {
        fail(field, "expected a list, got " + std::string(v.type_name()));
    }
    return out;
}

std::string format_argument(const json& v, bool escape_keys) {
    if (v.is_string()) return quoted(v.get<std::string>());
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_object()) {
        std::string out = "{";
        bool first = true;
        for (const auto& [key, item] : dictsort(v, "argument")) {
            out += (first ? "" : ",") + (escape_keys ? quoted(key) : key) + ":" +
                   format_argument(*item, escape_keys);
            first = false;
        }
        return out + "}";
    }
    if (v.is_array()) {
        std::string out = "[";
        for (size_t i = 0; i < v.size(); ++i) {
            out += (i ? "," : "") + format_argument(v[i], escape_keys);
        }
        return out + "]";
    }
    return py_str(&v);
}

// The "items" of an ARRAY-typed parameter.
static std::string format_items(const json& items, const std::string& field) {
    std::string out = "items:{";
    bool first = true;
    for (const auto& [key, value] : dictsort(items, field)) {
        if (value->is_null()) continue;
        out += first ? "" : ",";
        first = false;
        const std::string sub = field + "." + key;
        if (key == "properties") {
            out += "properties:{";
            if (value->is_object()) out += format_parameters(*value, sub);
            out += "}";
        } else if (key == "required") {
            out += "required:[" + quoted_list(*value, sub) + "]";
        } else if (key == "type") {
            if (value->is_string()) {
                out +=
                    "type:" + format_argument(json(ascii_upper(value->get<std::string>())), true);
            } else {
                json upper = json::array();
                for (const json& t : iterate(*value, sub)) upper.push_back(ascii_upper(py_str(&t)));
                out += "type:" + format_argument(upper, true);
            }
        } else {
            out += key + ":" + format_argument(*value, true);
        }
    }
    return out + "}";
}

std::string format_parameters(const json& properties, const std::string& field) {
    static const std::vector<std::string> standard_keys = {"description", "type", "properties",
                                                           "required", "nullable"};
    std::string out;
    bool found_first = false;
    for (const auto& [key, value_ptr] : dictsort(properties, field)) {
        if (std::find(standard_keys.begin(), standard_keys.end(), key) != standard_keys.end())
            continue;
        const json& value = *value_ptr;
        const std::string sub = field + "." + key;
        out += found_first ? "," : "";
        found_first = true;
        out += key + ":{";
        bool add_comma = false;
        const auto comma = [&] {
            if (add_comma) out += ",";
            add_comma = true;
        };
        if (const json* d = member(&value, "description"); truthy(d)) {
            out += "description:" + quoted(py_str(d));
            add_comma = true;
        }
        const std::string type = ascii_upper(py_str(member(&value, "type")));
        if (type == "STRING") {
            if (const json* e = member(&value, "enum"); truthy(e)) {
                comma();
                out += "enum:" + format_argument(*e, true);
            }
        } else if (type == "ARRAY") {
            const json* items = member(&value, "items");
            if (items != nullptr && items->is_object() && !items->empty()) {
                comma();
                out += format_items(*items, sub + ".items");
            }
        }
        if (truthy(member(&value, "nullable"))) {
            comma();
            out += "nullable:true";
        }
        if (type == "OBJECT") {
            const json* props = member(&value, "properties");
            if (props != nullptr && props->is_object()) {
                comma();
                out += "properties:{" + format_parameters(*props, sub + ".properties") + "}";
            } else if (value.is_object()) {
                comma();
                out += "properties:{" + format_parameters(value, sub) + "}";
            }
            if (const json* req = member(&value, "required"); truthy(req)) {
                comma();
                out += "required:[" + quoted_list(*req, sub + ".required") + "]";
            }
        }
        comma();
        out += "type:" + quoted(type) + "}";
    }
    return out;
}

std::string format_function_declaration(const json& tool, const std::string& field) {
    if (!tool.is_object()) fail(field, "expected an object, got " + std::string(tool.type_name()));
    const json* fn = member(&tool, "function");
    if (fn == nullptr || !fn->is_object()) fail(field + ".function", "expected an object");
    const json* name = member(fn, "name");
    if (name == nullptr || !name->is_string()) fail(field + ".function.name", "expected a string");
    std::string out = "declaration:" + name->get<std::string>() +
                      "{description:" + quoted(py_str(member(fn, "description")));
    const json* params = member(fn, "parameters");
    if (truthy(params)) {
        const std::string pfield = field + ".function.parameters";
        out += ",parameters:{";
        if (const json* props = member(params, "properties"); truthy(props)) {
            out += "properties:{" + format_parameters(*props, pfield + ".properties") + "},";
        }
        if (const json* req = member(params, "required"); truthy(req)) {
            out += "required:[" + quoted_list(*req, pfield + ".required") + "],";
        }
        if (const json* type = member(params, "type"); truthy(type)) {
            out += "type:" + quoted(ascii_upper(py_str(type))) + "}";
        }
    }
    if (fn->contains("response")) {
        const json* response = member(fn, "response");
        out += ",response:{";
        if (const json* d = member(response, "description"); truthy(d)) {
            out += "description:" + quoted(py_str(d)) + ",";
        }
        const std::string type = ascii_upper(py_str(member(response, "type")));
        if (type == "OBJECT") out += "type:" + quoted(type) + "}";
    }
    return py_trim(out + "}");
}

std::string strip_thinking(std::string_view text) {
    constexpr std::string_view open = "<|channel>";
    constexpr std::string_view close = "<channel|>";
    std::string result;
    size_t pos = 0;
    while (true) {
        const size_t end = text.find(close, pos);
        const std::string_view part =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        result.append(part.substr(0, part.find(open)));  // npos keeps the whole part
        if (end == std::string_view::npos) break;
        pos = end + close.size();
    }
    return py_trim(result);
}

std::string format_tool_response_block(const std::string& name, const json& response) {
    std::string out = "<|tool_response>";
    if (response.is_object()) {
        out += "response:" + name + "{";
        bool first = true;
        for (const auto& [key, value] : dictsort(response, "response")) {
            out += (first ? "" : ",") + key + ":" + format_argument(*value, false);
            first = false;
        }
        out += "}";
    } else {
        out += "response:" + name + "{value:" + format_argument(response, false) + "}";
    }
    return out + "<tool_response|>";
}

}  // namespace vkllm::chat_detail
