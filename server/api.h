#pragma once
// The HTTP routes: OpenAI endpoints (/v1/chat/completions, /v1/completions, /v1/models) and the
// server's own (/health, /metrics, /tokenize, /detokenize, /apply-template). Runs on the network
// thread; a RequestError thrown anywhere below handle() becomes the OpenAI error response, so a
// bad request can never take the server down.

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "loader/tokenizer.h"
#include "server/completion_request.h"
#include "server/engine.h"
#include "server/http_parser.h"
#include "server/metrics.h"
#include "server/responder.h"

namespace vkllm::server {

struct ApiOptions {
    std::string model_id;    // what /v1/models lists and responses name
    std::string model_file;  // file name, accepted as a model name too
    std::string api_key;     // empty: no authentication
    uint32_t max_tokens_limit = 4096;
};

// What the generation routes need; exists once the model has loaded. Borrowed by the Api.
struct ModelBackend {
    Engine* engine = nullptr;
    const Tokenizer* tokenizer = nullptr;
    uint32_t n_ctx = 0;
    uint32_t n_vocab = 0;
    uint32_t n_slots = 0;
};

// Runs a function on the network thread (asio::post); the engine's events travel through it.
using PostFn = std::function<void(std::function<void()>)>;

class Api {
  public:
    Api(ApiOptions options, Metrics& metrics, PostFn post);

    // Network thread. Until called, /health answers 503 and generation routes 503.
    void set_backend(const ModelBackend& backend) { backend_ = backend; }
    bool loaded() const { return backend_.engine != nullptr; }

    void handle(HttpRequest&& request, const std::shared_ptr<Responder>& out);

  private:
    using Route = void (Api::*)(const HttpRequest&, const std::shared_ptr<Responder>&);
    // The route for a path, checking the method; throws RequestError 404 / 405.
    Route find_route(const HttpRequest& request, std::string& label) const;
    void check_api_key(const HttpRequest& request) const;
    const ModelBackend& backend() const;
    void check_model(const CompletionRequest& request) const;
    std::string new_id(const char* prefix);

    void health(const HttpRequest&, const std::shared_ptr<Responder>&);
    void metrics(const HttpRequest&, const std::shared_ptr<Responder>&);
    void models(const HttpRequest&, const std::shared_ptr<Responder>&);
    void chat_completions(const HttpRequest&, const std::shared_ptr<Responder>&);
    void completions(const HttpRequest&, const std::shared_ptr<Responder>&);
    void tokenize(const HttpRequest&, const std::shared_ptr<Responder>&);
    void detokenize(const HttpRequest&, const std::shared_ptr<Responder>&);
    void apply_template(const HttpRequest&, const std::shared_ptr<Responder>&);
    void run_completion(CompletionRequest&& request, const std::shared_ptr<Responder>& out);
    void reply_json(const std::shared_ptr<Responder>& out, int status, const nlohmann::json& body);

    ApiOptions options_;
    Metrics& metrics_;
    PostFn post_;
    ModelBackend backend_;
    int64_t created_;
    std::mt19937_64 rng_;
    std::string route_label_;  // of the request being handled, for the metrics
};

}  // namespace vkllm::server
