#pragma once
// HTTP/1.1 server on standalone Asio: accepts on one address, runs each connection as a
// keep-alive loop (read -> parse -> handler -> write), answers pipelined requests in order,
// enforces the connection limit and read timeouts, and tells the route when its client has gone.
// All of it runs on the thread that runs the io_context. Asio stays inside this file's .cpp (it
// costs seconds per translation unit to compile).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http_parser.h"
#include "server/metrics.h"
#include "server/responder.h"

namespace asio {
class io_context;
}

namespace vkllm::server {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;  // 0: any free port (tests)
    HttpLimits limits;
    uint32_t max_connections = 256;
    // A request must arrive whole (headers and body) within this time of its first byte.
    std::chrono::milliseconds read_timeout{15000};
    // An idle keep-alive connection is closed after this.
    std::chrono::milliseconds idle_timeout{60000};
};

using RequestHandler = std::function<void(HttpRequest&&, const std::shared_ptr<Responder>&)>;

class HttpServer {
  public:
    // Binds and listens (throws std::system_error naming the address when it cannot).
    HttpServer(asio::io_context& io, const HttpServerOptions& options, RequestHandler handler,
               Metrics& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const;
    // Stops accepting; open connections finish their current response.
    void stop_accepting();
    // Closes every connection now.
    void close_all();

    // Defined in the .cpp; public only so the connections there can name it.
    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace vkllm::server
