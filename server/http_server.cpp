#include "server/http_server.h"

#include <array>
#include <asio.hpp>
#include <cstdio>
#include <deque>
#include <unordered_map>

#include "server/json_body.h"
#include "server/request_error.h"

namespace vkllm::server {
namespace {

using asio::ip::tcp;

// How long a connection that is being closed after an error keeps draining the client's unread
// bytes: closing with unread data makes the kernel send RST, which can destroy the response.
constexpr std::chrono::milliseconds k_linger{2000};
// Bytes buffered from a client while its previous request is still being answered.
constexpr size_t k_max_buffered_bytes = 1 << 20;

}  // namespace

class Connection;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
    Impl(asio::io_context& io, const HttpServerOptions& opts, RequestHandler h, Metrics& m)
        : options(opts), handler(std::move(h)), metrics(m), acceptor(io) {}

    void accept();
    void reject(tcp::socket socket);

    HttpServerOptions options;
    RequestHandler handler;
    Metrics& metrics;
    tcp::acceptor acceptor;
    uint16_t port = 0;
    std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
};

// One client connection. Owned by the shared_ptrs of its pending async operations and of any
// route still answering on it, so it lives exactly as long as someone can use it.
class Connection final : public Responder, public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          server_(std::move(server)),
          parser_(server_->options.limits) {}

    void start() {
        server_->metrics.connection_opened();
        asio::error_code ec;
        socket_.set_option(tcp::no_delay(true), ec);  // SSE tokens should leave at once
        arm_timer(server_->options.idle_timeout);
        do_read();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        asio::error_code ec;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        server_->connections.erase(this);
        server_->metrics.connection_closed();
        fire_disconnect();
    }

    // Responder.
    void respond(int status, std::string_view content_type, std::string_view body,
                 const HeaderList& extra) override {
        if (closed_ || !busy_ || streaming_ || response_sent_) return;
        response_sent_ = true;
        write(format_response(status, content_type, body, keep_alive_ && !peer_gone_, extra), true);
    }
    void start_stream(int status, std::string_view content_type) override {
        if (closed_ || !busy_ || streaming_ || response_sent_) return;
        streaming_ = true;
        write(format_stream_head(status, content_type, keep_alive_ && !peer_gone_), false);
    }
    void stream(std::string_view data) override {
        if (closed_ || !streaming_) return;
        write(format_chunk(data), false);
    }
    void end_stream() override {
        if (closed_ || !streaming_) return;
        streaming_ = false;
        response_sent_ = true;
        write(format_last_chunk(), true);
    }
    void abort() override {
        if (!busy_) return;
        on_disconnect_ = {};
        close();
    }
    void on_disconnect(std::function<void()> fn) override {
        on_disconnect_ = std::move(fn);
        if (peer_gone_ || closed_) fire_disconnect();
    }

  private:
    void fire_disconnect() {
        if (!busy_ || !on_disconnect_) return;
        auto fn = std::move(on_disconnect_);
        on_disconnect_ = {};
        fn();
    }

    void arm_timer(std::chrono::milliseconds after) {
        const uint64_t generation = ++timer_generation_;
        timer_.expires_after(after);
        timer_.async_wait([self = shared_from_this(), generation](const asio::error_code& ec) {
            if (!ec && generation == self->timer_generation_) self->on_timeout();
        });
    }

    void on_timeout() {
        if (closed_) return;
        if (lingering_ || !parser_.started() || busy_) {
            if (!busy_) close();  // idle keep-alive connection, or the end of a linger
            return;
        }
        fail_request(408, "the request did not arrive within " +
                              std::to_string(server_->options.read_timeout.count()) + " ms");
    }

    void do_read() {
        if (reading_ || closed_ || (busy_ && inbuf_.size() > k_max_buffered_bytes)) return;
        reading_ = true;
        socket_.async_read_some(asio::buffer(readbuf_),
                                [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                                    self->reading_ = false;
                                    self->on_read(ec, n);
                                });
    }

    void on_read(const asio::error_code& ec, size_t n) {
        if (closed_) return;
        if (ec) {
            // EOF or reset: the client is gone. A half-closed client that still waits for its
            // answer is indistinguishable here, and a generation nobody reads is wasted work.
            peer_gone_ = true;
            if (busy_ && !lingering_)
                fire_disconnect();
            else
                close();
            return;
        }
        if (lingering_) {
            do_read();  // discard until the client closes or the linger timer fires
            return;
        }
        inbuf_.append(readbuf_.data(), n);
        if (!busy_) process();
        do_read();
    }

    // Parses and dispatches buffered requests, one at a time, in order.
    void process() {
        while (!busy_ && !closed_ && !lingering_) {
            const size_t used = parser_.feed(inbuf_);
            inbuf_.erase(0, used);
            switch (parser_.status()) {
                case HttpParser::Status::Complete: {
                    HttpRequest request = parser_.take();
                    request_timer_armed_ = false;
                    continue_sent_ = false;
                    begin_response(request.keep_alive());
                    ++timer_generation_;  // no read timeout while the route works
                    server_->handler(std::move(request), shared_from_this());
                    break;
                }
                case HttpParser::Status::Error:
                    fail_request(parser_.error().status, parser_.error().message);
                    return;
                case HttpParser::Status::NeedMore:
                    if (parser_.awaiting_body() && parser_.partial().expects_continue() &&
                        !continue_sent_) {
                        continue_sent_ = true;
                        queue_bytes("HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    if (parser_.started() && !request_timer_armed_) {
                        request_timer_armed_ = true;
                        arm_timer(server_->options.read_timeout);
                    }
                    return;
            }
        }
    }

    void begin_response(bool keep_alive) {
        busy_ = true;
        keep_alive_ = keep_alive;
        streaming_ = false;
        response_sent_ = false;
    }

    // A request that cannot be parsed: answer and close, since the byte stream is out of sync.
    void fail_request(int status, const std::string& message) {
        begin_response(false);
        server_->metrics.record_request("http", status);
        respond(status, "application/json", dump_json(error_json(status, message)), {});
    }

    void response_done() {
        busy_ = false;
        on_disconnect_ = {};
        if (!keep_alive_ || peer_gone_) {
            linger();
            return;
        }
        process();
        if (!busy_ && !parser_.started()) arm_timer(server_->options.idle_timeout);
        do_read();
    }

    void linger() {
        if (closed_ || lingering_) return;
        lingering_ = true;
        asio::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        if (ec || peer_gone_) {
            close();
            return;
        }
        arm_timer(k_linger);
        do_read();
    }

    void queue_bytes(std::string data) { write(std::move(data), false); }

    void write(std::string data, bool ends_response) {
        outbuf_ += data;
        pending_ends_ = pending_ends_ || ends_response;
        if (!writing_) do_write();
    }

    void do_write() {
        if (closed_ || outbuf_.empty()) return;
        writing_ = true;
        inflight_.swap(outbuf_);
        outbuf_.clear();
        const bool ends = pending_ends_;
        pending_ends_ = false;
        asio::async_write(socket_, asio::buffer(inflight_),
                          [self = shared_from_this(), ends](const asio::error_code& ec, size_t) {
                              self->on_write(ec, ends);
                          });
    }

    void on_write(const asio::error_code& ec, bool ends_response) {
        writing_ = false;
        inflight_.clear();
        if (closed_) return;
        if (ec) {
            peer_gone_ = true;
            close();  // also tells the route, which stops its generation
            return;
        }
        if (ends_response) response_done();
        if (!writing_ && !outbuf_.empty()) do_write();
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    std::shared_ptr<HttpServer::Impl> server_;
    HttpParser parser_;
    std::array<char, 16384> readbuf_{};
    std::string inbuf_;
    std::string outbuf_;    // queued, not yet handed to the socket
    std::string inflight_;  // being written
    bool pending_ends_ = false;
    std::function<void()> on_disconnect_;
    uint64_t timer_generation_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool busy_ = false;  // a request is being answered
    bool streaming_ = false;
    bool response_sent_ = false;
    bool keep_alive_ = true;
    bool peer_gone_ = false;
    bool lingering_ = false;
    bool closed_ = false;
    bool continue_sent_ = false;
    bool request_timer_armed_ = false;
};

void HttpServer::Impl::reject(tcp::socket socket) {
    auto sock = std::make_shared<tcp::socket>(std::move(socket));
    auto msg = std::make_shared<std::string>(format_response(
        503, "application/json",
        dump_json(error_json(503, "too many open connections (--max-connections " +
                                      std::to_string(options.max_connections) + ")")),
        false));
    metrics.record_request("http", 503);
    asio::async_write(*sock, asio::buffer(*msg), [sock, msg](const asio::error_code&, size_t) {
        asio::error_code ec;
        sock->shutdown(tcp::socket::shutdown_both, ec);
        sock->close(ec);
    });
}

void HttpServer::Impl::accept() {
    // A weak reference: a completion that runs after the server is gone does nothing.
    acceptor.async_accept(
        [weak = weak_from_this()](const asio::error_code& ec, tcp::socket socket) {
            const auto self = weak.lock();
            if (!self || ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
            if (ec) {
                // Out of file descriptors and the like: this connection is lost, the server is not.
                std::fprintf(stderr, "vkllm serve: accept failed: %s\n", ec.message().c_str());
            } else if (self->connections.size() >= self->options.max_connections) {
                self->reject(std::move(socket));
            } else {
                auto conn = std::make_shared<Connection>(std::move(socket), self);
                self->connections[conn.get()] = conn;
                conn->start();
            }
            self->accept();
        });
}

HttpServer::HttpServer(asio::io_context& io, const HttpServerOptions& options,
                       RequestHandler handler, Metrics& metrics)
    : impl_(std::make_shared<Impl>(io, options, std::move(handler), metrics)) {
    try {
        const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
        const tcp::endpoint endpoint(asio::ip::make_address(host), options.port);
        impl_->acceptor.open(endpoint.protocol());
        impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
        impl_->acceptor.bind(endpoint);
        impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const asio::system_error& e) {
        throw std::runtime_error("cannot listen on " + options.host + ":" +
                                 std::to_string(options.port) + ": " + e.code().message());
    }
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
}

HttpServer::~HttpServer() {
    stop_accepting();
    close_all();
}

uint16_t HttpServer::port() const {
    return impl_->port;
}

void HttpServer::stop_accepting() {
    asio::error_code ec;
    impl_->acceptor.close(ec);
}

void HttpServer::close_all() {
    std::vector<std::shared_ptr<Connection>> open;
    for (auto& [raw, weak] : impl_->connections) {
        if (auto conn = weak.lock()) open.push_back(std::move(conn));
    }
    for (auto& conn : open) conn->close();
}

}  // namespace vkllm::server
