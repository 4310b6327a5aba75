#pragma once
// The running server: io_context + signal handling + HTTP server + routes, and the engine once
// the model has loaded. Loading runs on its own thread while the server already answers
// (/health 503 "loading"), so orchestrators see the process come up at once.
//
// Shutdown (SIGINT/SIGTERM, or request_stop()): stop accepting, stop the engine (every open
// request ends), give connections a moment to flush, close them. A second signal skips the wait.

#include <functional>
#include <memory>

#include "loader/tokenizer.h"
#include "server/api.h"
#include "server/batch_model.h"
#include "server/engine.h"
#include "server/http_server.h"

namespace vkllm::server {

// A loaded model as the server holds it; the implementation owns the model and its tokenizer.
class ServedModel {
  public:
    virtual ~ServedModel() = default;
    virtual BatchModel& model() = 0;
    virtual const Tokenizer& tokenizer() const = 0;
};

using ModelLoader = std::function<std::unique_ptr<ServedModel>()>;

struct ServeOptions {
    HttpServerOptions http;
    ApiOptions api;
    EngineOptions engine;
    bool handle_signals = true;  // off in tests that run several servers in one process
};

class ServerApp {
  public:
    explicit ServerApp(const ServeOptions& options);
    ~ServerApp();
    ServerApp(const ServerApp&) = delete;
    ServerApp& operator=(const ServerApp&) = delete;

    // Binds (throws when it cannot), calls on_listening(port), loads the model with `loader` on a
    // second thread, and serves until stopped. Returns 0, or 1 when the model failed to load.
    int run(const ModelLoader& loader, const std::function<void(uint16_t)>& on_listening);
    // Thread-safe: begins a graceful shutdown.
    void request_stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vkllm::server
