#include "server/server_app.h"

#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <thread>

namespace vkllm::server {
namespace {

// Time connections get to flush their last bytes after the engine has ended every request.
constexpr std::chrono::milliseconds k_drain{1000};

}  // namespace

struct ServerApp::Impl {
    explicit Impl(const ServeOptions& o)
        : options(o),
          signals(io),
          drain_timer(io),
          api(o.api, metrics, [this](std::function<void()> fn) { asio::post(io, std::move(fn)); }) {
    }

    void shutdown();
    void wait_signal();
    void install(std::unique_ptr<ServedModel> loaded);

    ServeOptions options;
    // Declaration order is destruction order in reverse: the io_context (and the connections
    // its handlers keep alive) goes after the engine and the model it borrows.
    asio::io_context io;
    asio::signal_set signals;
    asio::steady_timer drain_timer;
    Metrics metrics;
    Api api;
    std::unique_ptr<ServedModel> served;
    std::unique_ptr<Engine> engine;
    // After the engine: closing connections on destruction cancels their requests in it.
    std::unique_ptr<HttpServer> http;
    bool stopping = false;
    int exit_code = 0;
};

void ServerApp::Impl::install(std::unique_ptr<ServedModel> loaded) {
    if (stopping) return;  // destroyed with the Impl
    served = std::move(loaded);
    engine =
        std::make_unique<Engine>(served->model(), served->tokenizer(), metrics, options.engine);
    ModelBackend backend;
    backend.engine = engine.get();
    backend.tokenizer = &served->tokenizer();
    backend.n_ctx = served->model().n_ctx();
    backend.n_vocab = served->model().n_vocab();
    backend.n_slots = served->model().n_seq();
    api.set_backend(backend);
    std::fprintf(stderr, "vkllm serve: model loaded, serving\n");
}

void ServerApp::Impl::shutdown() {
    if (stopping) {
        // Second request: do not wait for anything.
        if (http) http->close_all();
        io.stop();
        return;
    }
    stopping = true;
    std::fprintf(stderr, "vkllm serve: shutting down\n");
    if (http) http->stop_accepting();
    if (engine) engine->stop();  // ends every request; their last events are already posted
    drain_timer.expires_after(k_drain);
    drain_timer.async_wait([this](const asio::error_code&) {
        if (http) http->close_all();
        signals.cancel();
        io.stop();
    });
}

ServerApp::ServerApp(const ServeOptions& options) : impl_(std::make_unique<Impl>(options)) {}

ServerApp::~ServerApp() = default;

void ServerApp::request_stop() {
    asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
}

void ServerApp::Impl::wait_signal() {
    signals.async_wait([this](const asio::error_code& ec, int) {
        if (ec) return;
        shutdown();
        wait_signal();
    });
}

int ServerApp::run(const ModelLoader& loader, const std::function<void(uint16_t)>& on_listening) {
    Impl& s = *impl_;
    s.http = std::make_unique<HttpServer>(
        s.io, s.options.http,
        [&s](HttpRequest&& request, const std::shared_ptr<Responder>& out) {
            s.api.handle(std::move(request), out);
        },
        s.metrics);
    if (s.options.handle_signals) {
        s.signals.add(SIGINT);
        s.signals.add(SIGTERM);
        s.wait_signal();
    }
    if (on_listening) on_listening(s.http->port());

    std::thread loading([&s, &loader] {
        try {
            // std::function needs a copyable callable: the model travels in a shared holder.
            auto holder = std::make_shared<std::unique_ptr<ServedModel>>(loader());
            asio::post(s.io, [&s, holder] { s.install(std::move(*holder)); });
        } catch (const std::exception& e) {
            std::string message = e.what();
            asio::post(s.io, [&s, message] {
                std::fprintf(stderr, "vkllm serve: error: cannot load the model: %s\n",
                             message.c_str());
                s.exit_code = 1;
                s.shutdown();
            });
        }
    });
    s.io.run();
    // A stop during loading waits for the load to end: it cannot be interrupted midway.
    loading.join();
    return s.exit_code;
}

}  // namespace vkllm::server
