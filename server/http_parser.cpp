#include "server/http_parser.h"

#include <algorithm>
#include <charconv>

namespace vkllm::server {
namespace {

constexpr size_t k_max_chunk_line_bytes = 4096;

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 9110 token characters (method and header names).
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Does the comma-separated header value contain `item` (case-insensitive)?
bool list_contains(std::string_view value, std::string_view item) {
    while (!value.empty()) {
        const size_t comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), item)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) return &v;
    }
    return nullptr;
}

std::string_view HttpRequest::path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
}

bool HttpRequest::keep_alive() const {
    const std::string* c = header("connection");
    if (minor_version >= 1) return c == nullptr || !list_contains(*c, "close");
    return c != nullptr && list_contains(*c, "keep-alive");
}

bool HttpRequest::expects_continue() const {
    const std::string* e = header("expect");
    return e != nullptr && iequals(trim(*e), "100-continue");
}

HttpParser::Status HttpParser::status() const {
    if (state_ == State::Complete) return Status::Complete;
    if (state_ == State::Error) return Status::Error;
    return Status::NeedMore;
}

bool HttpParser::awaiting_body() const {
    return state_ == State::Body || state_ == State::ChunkSize || state_ == State::ChunkData ||
           state_ == State::ChunkDataEnd;
}

HttpRequest HttpParser::take() {
    HttpRequest out = std::move(request_);
    request_ = HttpRequest{};
    state_ = State::RequestLine;
    line_.clear();
    header_bytes_ = 0;
    remaining_ = 0;
    return out;
}

void HttpParser::fail(int status, std::string message) {
    state_ = State::Error;
    error_ = HttpParseError{status, std::move(message)};
}

void HttpParser::add_header_bytes(size_t n) {
    header_bytes_ += n;
    if (header_bytes_ > limits_.max_header_bytes) {
        fail(431, "request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
    }
}

bool HttpParser::take_line(std::string_view data, size_t& pos) {
    const size_t nl = data.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
    if (state_ == State::RequestLine || state_ == State::Headers) {
        add_header_bytes(end - pos);
    } else if (line_.size() + (end - pos) > k_max_chunk_line_bytes) {
        // Chunk-size and trailer lines are unbounded text too.
        fail(400, "chunked body: chunk-size or trailer line longer than " +
                      std::to_string(k_max_chunk_line_bytes) + " bytes");
    }
    if (state_ == State::Error) return false;
    line_.append(data.substr(pos, end - pos));
    pos = end;
    return nl != std::string_view::npos;
}

size_t HttpParser::feed(std::string_view data) {
    size_t pos = 0;
    while (pos < data.size() && state_ != State::Complete && state_ != State::Error) {
        if (state_ == State::Body || state_ == State::ChunkData) {
            const size_t n = static_cast<size_t>(
                std::min<uint64_t>(remaining_, static_cast<uint64_t>(data.size() - pos)));
            request_.body.append(data.substr(pos, n));
            pos += n;
            remaining_ -= n;
            if (remaining_ == 0)
                state_ = state_ == State::Body ? State::Complete : State::ChunkDataEnd;
            continue;
        }
        if (!take_line(data, pos)) break;
        std::string_view line = line_;
        line.remove_suffix(1);  // '\n'
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        switch (state_) {
            case State::RequestLine:
                // RFC 9112 §2.2: ignore empty lines before a request line (after a body's CRLF).
                if (!line.empty())
                    parse_request_line(line);
                else
                    header_bytes_ = 0;
                break;
            case State::Headers:
                if (line.empty())
                    finish_headers();
                else
                    parse_header_line(line);
                break;
            case State::ChunkSize:
                parse_chunk_size(line);
                break;
            case State::ChunkDataEnd:
                if (!line.empty())
                    fail(400, "chunked body: missing CRLF after chunk data");
                else
                    state_ = State::ChunkSize;
                break;
            case State::Trailers:
                if (line.empty()) state_ = State::Complete;  // trailer fields are ignored
                break;
            default:
                break;
        }
        line_.clear();
    }
    return pos;
}

void HttpParser::parse_request_line(std::string_view line) {
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return fail(400, "malformed request line (expected 'METHOD TARGET HTTP/1.x')");
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) return fail(400, "malformed request line: bad method");
    if (target.empty() || (target[0] != '/' && target != "*")) {
        return fail(400, "malformed request line: target must start with '/'");
    }
    if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
        version[7] > '9') {
        if (version.substr(0, 5) == "HTTP/") return fail(505, "only HTTP/1.x is supported");
        return fail(400, "malformed request line: bad HTTP version");
    }
    request_.method = method;
    request_.target = target;
    request_.minor_version = version[7] - '0';
    state_ = State::Headers;
}

void HttpParser::parse_header_line(std::string_view line) {
    if (line.front() == ' ' || line.front() == '\t') {
        return fail(400, "obsolete header line folding is not accepted");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
        return fail(400, "malformed header line");
    }
    if (request_.headers.size() >= limits_.max_headers) {
        return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
    }
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), lower);
    request_.headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
}

void HttpParser::finish_headers() {
    const std::string* te = request_.header("transfer-encoding");
    const std::string* cl = nullptr;
    for (const auto& [k, v] : request_.headers) {
        if (k != "content-length") continue;
        if (cl != nullptr && *cl != v) return fail(400, "conflicting Content-Length headers");
        cl = &v;
    }
    if (te != nullptr) {
        if (cl != nullptr) return fail(400, "both Transfer-Encoding and Content-Length are set");
        if (!iequals(trim(*te), "chunked")) {
            return fail(501, "unsupported Transfer-Encoding '" + *te + "' (only chunked)");
        }
        state_ = State::ChunkSize;
        return;
    }
    if (cl == nullptr) {
        if (request_.method == "POST" || request_.method == "PUT" || request_.method == "PATCH") {
            return fail(411, "a " + request_.method +
                                 " request needs Content-Length or Transfer-Encoding: chunked");
        }
        state_ = State::Complete;
        return;
    }
    uint64_t n = 0;
    const auto res = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (cl->empty() || res.ec != std::errc() || res.ptr != cl->data() + cl->size()) {
        return fail(400, "invalid Content-Length '" + *cl + "'");
    }
    if (n > limits_.max_body_bytes) {
        return fail(413, "request body of " + std::to_string(n) + " bytes exceeds the limit of " +
                             std::to_string(limits_.max_body_bytes) + " bytes");
    }
    remaining_ = n;
    state_ = n == 0 ? State::Complete : State::Body;
}

void HttpParser::parse_chunk_size(std::string_view line) {
    const std::string_view digits = trim(line.substr(0, line.find(';')));  // drop extensions
    uint64_t n = 0;
    const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), n, 16);
    if (digits.empty() || res.ec != std::errc() || res.ptr != digits.data() + digits.size()) {
        return fail(400, "chunked body: invalid chunk size line");
    }
    if (n > limits_.max_body_bytes - request_.body.size()) {
        return fail(413, "chunked request body exceeds the limit of " +
                             std::to_string(limits_.max_body_bytes) + " bytes");
    }
    remaining_ = n;
    state_ = n == 0 ? State::Trailers : State::ChunkData;
}

}  // namespace vkllm::server
