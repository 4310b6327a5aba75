#include "tools/cli_text.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "loader/chat_template.h"

namespace vkllm::cli {
namespace {

bool is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int32_t checked_id(int64_t id, size_t vocab_size, size_t index) {
    const std::string item = "token " + std::to_string(index) + " (" + std::to_string(id) + ")";
    if (id < 0) throw std::invalid_argument(item + " is negative");
    if (vocab_size > 0 && static_cast<uint64_t>(id) >= vocab_size) {
        throw std::invalid_argument(item + " is outside the vocabulary of " +
                                    std::to_string(vocab_size) + " tokens");
    }
    if (id > INT32_MAX) throw std::invalid_argument(item + " is too large");
    return static_cast<int32_t>(id);
}

std::vector<int32_t> parse_json_ids(std::string_view text, size_t vocab_size) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw std::invalid_argument(std::string("token ids: malformed JSON: ") + e.what());
    }
    if (!j.is_array()) throw std::invalid_argument("token ids: expected a JSON array of integers");
    std::vector<int32_t> ids;
    ids.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
        if (!j[i].is_number_integer()) {
            throw std::invalid_argument("token " + std::to_string(i) +
                                        ": expected an integer, got " + j[i].dump());
        }
        ids.push_back(checked_id(j[i].get<int64_t>(), vocab_size, i));
    }
    return ids;
}

}  // namespace

std::string read_all(std::FILE* in) {
    std::string out;
    char buf[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) out.append(buf, n);
    if (std::ferror(in)) throw std::runtime_error("cannot read standard input");
    return out;
}

std::string format_token_ids(std::span<const int32_t> ids, bool json) {
    std::string out = json ? "[" : "";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += json ? "," : " ";
        out += std::to_string(ids[i]);
    }
    return json ? out + "]" : out;
}

std::vector<int32_t> parse_token_ids(std::string_view text, size_t vocab_size) {
    const size_t first = text.find_first_not_of(" \t\r\n\f\v");
    if (first != std::string_view::npos && text[first] == '[')
        return parse_json_ids(text, vocab_size);
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < text.size()) {
        if (is_separator(text[i])) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < text.size() && !is_separator(text[end])) ++end;
        const std::string_view item = text.substr(i, end - i);
        int64_t id = 0;
        const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
        if (ec != std::errc() || ptr != item.data() + item.size()) {
            throw std::invalid_argument("token " + std::to_string(ids.size()) +
                                        ": expected an integer id, got '" + std::string(item) +
                                        "'");
        }
        ids.push_back(checked_id(id, vocab_size, ids.size()));
        i = end;
    }
    return ids;
}

std::string render_template_request(std::string_view json_text) {
    nlohmann::json request;
    try {
        request = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::parse_error& e) {
        throw std::invalid_argument(std::string("template request: malformed JSON: ") + e.what());
    }
    return render_gemma4_chat(request);
}

std::string format_score_json(
    const std::vector<std::vector<std::pair<int32_t, float>>>& positions) {
    std::string out = "{\"positions\": [";
    char buf[32];
    for (size_t p = 0; p < positions.size(); ++p) {
        out += p ? ", {\"top\": [" : "{\"top\": [";
        for (size_t i = 0; i < positions[p].size(); ++i) {
            const auto [id, logprob] = positions[p][i];
            // %.9g round-trips a float exactly.
            if (std::isfinite(logprob)) {
                std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(logprob));
            } else {
                std::snprintf(buf, sizeof buf, "null");
            }
            out += (i ? ", [" : "[") + std::to_string(id) + ", " + buf + "]";
        }
        out += "]}";
    }
    return out + "]}";
}

}  // namespace vkllm::cli
