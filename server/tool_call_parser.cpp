#include "server/tool_call_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace vkllm::server {
namespace {

using nlohmann::json;

constexpr std::string_view k_quote = "<|\"|>";
constexpr int k_max_depth = 64;  // model output is untrusted: bound the recursion

// Recursive-descent reader over the argument syntax; every method returns false on bad input.
class ArgReader {
  public:
    explicit ArgReader(std::string_view s) : s_(s) {}

    bool object(json& out, int depth) {
        if (depth > k_max_depth || !eat('{')) return false;
        out = json::object();
        skip_space();
        if (eat('}')) return true;
        for (;;) {
            std::string key;
            json value;
            if (!this->key(key) || !eat(':') || !this->value(value, depth + 1)) return false;
            out[key] = std::move(value);
            skip_space();
            if (eat('}')) return true;
            if (!eat(',')) return false;
            skip_space();
        }
    }

    bool at_end() const { return pos_ == s_.size(); }

  private:
    bool eat(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n')) ++pos_;
    }
    bool quoted(std::string& out) {
        if (s_.substr(pos_, k_quote.size()) != k_quote) return false;
        const size_t end = s_.find(k_quote, pos_ + k_quote.size());
        if (end == std::string_view::npos) return false;
        out = s_.substr(pos_ + k_quote.size(), end - pos_ - k_quote.size());
        pos_ = end + k_quote.size();
        return true;
    }
    bool key(std::string& out) {
        if (quoted(out)) return true;
        const size_t end = s_.find(':', pos_);
        if (end == std::string_view::npos || end == pos_) return false;
        out = s_.substr(pos_, end - pos_);
        pos_ = end;
        return out.find_first_of("{}[],") == std::string::npos;
    }
    bool list(json& out, int depth) {
        if (depth > k_max_depth || !eat('[')) return false;
        out = json::array();
        skip_space();
        if (eat(']')) return true;
        for (;;) {
            json item;
            if (!value(item, depth + 1)) return false;
            out.push_back(std::move(item));
            skip_space();
            if (eat(']')) return true;
            if (!eat(',')) return false;
            skip_space();
        }
    }
    bool value(json& out, int depth) {
        skip_space();
        if (pos_ >= s_.size()) return false;
        std::string text;
        if (quoted(text)) {
            out = std::move(text);
            return true;
        }
        if (s_[pos_] == '{') return object(out, depth);
        if (s_[pos_] == '[') return list(out, depth);
        return scalar(out);
    }
    // Bare words up to the next delimiter: numbers, true/false, None/null.
    bool scalar(json& out) {
        const size_t end = std::min(s_.find_first_of(",}]", pos_), s_.size());
        std::string_view word = s_.substr(pos_, end - pos_);
        while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
        if (word.empty()) return false;
        // A bare word is a number or a keyword; anything else (a stray <|"|>) is malformed.
        const bool plain = std::all_of(word.begin(), word.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                   c == '+' || c == '_';
        });
        if (!plain) return false;
        pos_ = end;
        if (word == "true" || word == "True")
            out = true;
        else if (word == "false" || word == "False")
            out = false;
        else if (word == "None" || word == "null")
            out = nullptr;
        else
            return number(word, out);
        return true;
    }
    static bool number(std::string_view word, json& out) {
        int64_t i = 0;
        auto r = std::from_chars(word.data(), word.data() + word.size(), i);
        if (r.ec == std::errc() && r.ptr == word.data() + word.size()) {
            out = i;
            return true;
        }
        double d = 0;
        r = std::from_chars(word.data(), word.data() + word.size(), d);
        if (r.ec == std::errc() && r.ptr == word.data() + word.size()) {
            out = d;
            return true;
        }
        out = std::string(word);  // an unquoted word: keep it rather than lose the call
        return true;
    }

    std::string_view s_;
    size_t pos_ = 0;
};

}  // namespace

std::optional<ToolCall> parse_tool_call(std::string_view text) {
    constexpr std::string_view prefix = "call:";
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    text.remove_prefix(prefix.size());
    const size_t brace = text.find('{');
    if (brace == 0 || brace == std::string_view::npos) return std::nullopt;
    ToolCall call;
    call.name = text.substr(0, brace);
    if (call.name.find_first_of(" \n:") != std::string::npos) return std::nullopt;
    ArgReader reader(text.substr(brace));
    if (!reader.object(call.arguments, 0) || !reader.at_end()) return std::nullopt;
    return call;
}

}  // namespace vkllm::server
