#pragma once
// Incremental HTTP/1.1 request parser: bytes in (any split, several pipelined requests back to
// back), complete requests out. Pure data, no sockets, so every framing rule is unit-tested.
//
// Framing: Content-Length or "Transfer-Encoding: chunked" bodies; a POST/PUT with neither is 411
// (a client that forgot the length would otherwise hang the connection or smuggle its body in as
// the next request). Limits bound every buffer: header bytes (431), header count (431), body bytes
// (413). After an error the connection must be closed: the byte stream is no longer in sync.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkllm::server {

struct HttpRequest {
    std::string method;
    std::string target;     // as sent: path plus optional "?query"
    int minor_version = 1;  // HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
    std::string body;

    // The first header named `name` (lower case), or nullptr.
    const std::string* header(std::string_view name) const;
    std::string_view path() const;
    // HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 only with "keep-alive".
    bool keep_alive() const;
    bool expects_continue() const;
};

struct HttpLimits {
    size_t max_header_bytes = 16 * 1024;  // request line + all header lines
    size_t max_headers = 100;
    size_t max_body_bytes = 8 * 1024 * 1024;
};

struct HttpParseError {
    int status = 400;
    std::string message;
};

class HttpParser {
  public:
    enum class Status { NeedMore, Complete, Error };

    explicit HttpParser(const HttpLimits& limits) : limits_(limits) {}

    // Consumes bytes of `data` up to the end of the current request and returns how many; the
    // rest belongs to the next (pipelined) request. Call again after take().
    size_t feed(std::string_view data);

    Status status() const;
    // Valid when status() == Complete; resets the parser for the next request.
    HttpRequest take();
    // Valid when status() == Error.
    const HttpParseError& error() const { return error_; }
    // Some byte of a request has arrived (an idle keep-alive connection has none).
    bool started() const { return state_ != State::RequestLine || !line_.empty(); }
    // The headers are complete and a body is still expected (for "Expect: 100-continue").
    bool awaiting_body() const;
    // The headers of the request being parsed (complete once awaiting_body() or Complete).
    const HttpRequest& partial() const { return request_; }

  private:
    enum class State {
        RequestLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Complete,
        Error
    };

    // Appends to line_ up to and including '\n'; returns true when a whole line is there.
    bool take_line(std::string_view data, size_t& pos);
    void parse_request_line(std::string_view line);
    void parse_header_line(std::string_view line);
    void finish_headers();
    void parse_chunk_size(std::string_view line);
    void fail(int status, std::string message);
    void add_header_bytes(size_t n);

    HttpLimits limits_;
    State state_ = State::RequestLine;
    HttpRequest request_;
    HttpParseError error_;
    std::string line_;
    size_t header_bytes_ = 0;
    uint64_t remaining_ = 0;  // body bytes still expected (Content-Length or current chunk)
};

}  // namespace vkllm::server
