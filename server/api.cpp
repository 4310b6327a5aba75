#include "server/api.h"

#include <array>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "loader/chat_template.h"
#include "runtime/generate/chat_prompt.h"
#include "server/completion_session.h"
#include "server/json_body.h"
#include "server/request_error.h"

namespace vkllm::server {
namespace {

using nlohmann::json;

struct RouteEntry {
    const char* path;
    const char* method;
};

constexpr std::array<RouteEntry, 8> k_routes = {{
    {"/health", "GET"},
    {"/metrics", "GET"},
    {"/v1/models", "GET"},
    {"/v1/chat/completions", "POST"},
    {"/v1/completions", "POST"},
    {"/tokenize", "POST"},
    {"/detokenize", "POST"},
    {"/apply-template", "POST"},
}};

const char* allowed_method(std::string_view path) {
    for (const RouteEntry& r : k_routes) {
        if (path == r.path) return r.method;
    }
    return "GET";
}

// "[chat_template] messages[2].role: problem" / "temperature: problem" -> the field name.
std::string param_of(const std::string& message) {
    std::string_view m = message;
    if (!m.empty() && m.front() == '[') {
        const size_t close = m.find("] ");
        if (close != std::string_view::npos) m.remove_prefix(close + 2);
    }
    const size_t colon = m.find(": ");
    if (colon == std::string_view::npos || m.substr(0, colon).find(' ') != std::string_view::npos) {
        return {};
    }
    return std::string(m.substr(0, colon));
}

// Constant-time comparison, so the key cannot be guessed byte by byte from response times.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
    }
    return diff == 0;
}

}  // namespace

Api::Api(ApiOptions options, Metrics& metrics, PostFn post)
    : options_(std::move(options)),
      metrics_(metrics),
      post_(std::move(post)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()),
      rng_(std::random_device{}()) {}

void Api::reply_json(const std::shared_ptr<Responder>& out, int status, const json& body) {
    metrics_.record_request(route_label_, status);
    out->respond(status, "application/json", dump_json(body));
}

void Api::handle(HttpRequest&& request, const std::shared_ptr<Responder>& out) {
    route_label_ = "other";
    try {
        const Route route = find_route(request, route_label_);
        if (route != &Api::health) check_api_key(request);
        (this->*route)(request, out);
    } catch (const RequestError& e) {
        HeaderList extra;
        if (e.status() == 405) extra.emplace_back("Allow", allowed_method(request.path()));
        if (e.status() == 401) extra.emplace_back("WWW-Authenticate", "Bearer");
        metrics_.record_request(route_label_, e.status());
        out->respond(e.status(), "application/json", dump_json(error_json(e)), extra);
    } catch (const std::exception& e) {
        // A bug, not a bad request: report it and keep serving.
        reply_json(out, 500, error_json(500, std::string("internal error: ") + e.what()));
    }
}

Api::Route Api::find_route(const HttpRequest& request, std::string& label) const {
    const std::string_view path = request.path();
    for (const RouteEntry& r : k_routes) {
        if (path != r.path) continue;
        label = r.path;
        if (request.method != r.method) {
            throw RequestError(
                405,
                "method " + request.method + " is not allowed on " + r.path + "; use " + r.method,
                {}, "method_not_allowed");
        }
        if (path == "/health") return &Api::health;
        if (path == "/metrics") return &Api::metrics;
        if (path == "/v1/models") return &Api::models;
        if (path == "/v1/chat/completions") return &Api::chat_completions;
        if (path == "/v1/completions") return &Api::completions;
        if (path == "/tokenize") return &Api::tokenize;
        if (path == "/detokenize") return &Api::detokenize;
        return &Api::apply_template;
    }
    throw RequestError(404, "no route for " + request.method + " " + std::string(path), {},
                       "not_found");
}

void Api::check_api_key(const HttpRequest& request) const {
    if (options_.api_key.empty()) return;
    const std::string* auth = request.header("authorization");
    const std::string expected = "Bearer " + options_.api_key;
    if (auth == nullptr) {
        throw RequestError(401, "missing API key: send 'Authorization: Bearer <key>'", {},
                           "invalid_api_key");
    }
    if (!same_secret(*auth, expected))
        throw RequestError(401, "invalid API key", {}, "invalid_api_key");
}

const ModelBackend& Api::backend() const {
    if (backend_.engine == nullptr)
        throw RequestError(503, "the model is still loading", {}, "loading");
    return backend_;
}

void Api::check_model(const CompletionRequest& request) const {
    if (request.model.empty() || request.model == options_.model_id ||
        request.model == options_.model_file) {
        return;
    }
    throw RequestError(
        404,
        "model '" + request.model + "' does not exist; this server has '" + options_.model_id + "'",
        "model", "model_not_found");
}

std::string Api::new_id(const char* prefix) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string id = prefix;
    for (int i = 0; i < 2; ++i) {
        uint64_t x = rng_();
        for (int k = 0; k < 12; ++k, x >>= 4) id.push_back(k_hex[x & 15u]);
    }
    return id;
}

void Api::health(const HttpRequest&, const std::shared_ptr<Responder>& out) {
    if (!loaded()) return reply_json(out, 503, {{"status", "loading"}});
    const EngineGauges g = metrics_.gauges();
    reply_json(out, 200,
               {{"status", "ok"},
                {"slots_total", g.slots_total},
                {"slots_busy", g.slots_busy},
                {"slots_idle", g.slots_total - g.slots_busy},
                {"queue_depth", g.queue_depth}});
}

void Api::metrics(const HttpRequest&, const std::shared_ptr<Responder>& out) {
    metrics_.record_request(route_label_, 200);
    out->respond(200, "text/plain; version=0.0.4", metrics_.prometheus_text());
}

void Api::models(const HttpRequest&, const std::shared_ptr<Responder>& out) {
    json model = {{"id", options_.model_id},
                  {"object", "model"},
                  {"created", created_},
                  {"owned_by", "vkllm"}};
    if (loaded())
        model["meta"] = {
            {"n_ctx", backend_.n_ctx}, {"n_vocab", backend_.n_vocab}, {"slots", backend_.n_slots}};
    reply_json(out, 200, {{"object", "list"}, {"data", json::array({std::move(model)})}});
}

void Api::chat_completions(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
    const ModelBackend& b = backend();
    RequestLimits limits{options_.max_tokens_limit, b.n_vocab};
    run_completion(parse_chat_request(parse_json_object(request.body), limits), out);
}

void Api::completions(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
    const ModelBackend& b = backend();
    RequestLimits limits{options_.max_tokens_limit, b.n_vocab};
    run_completion(parse_completion_request(parse_json_object(request.body), limits), out);
}

void Api::run_completion(CompletionRequest&& req, const std::shared_ptr<Responder>& out) {
    const ModelBackend& b = backend();
    check_model(req);
    GenerationJob job;
    if (req.endpoint == Endpoint::Chat) {
        try {
            job.prompt = encode_chat_prompt(*b.tokenizer, req.conversation);
        } catch (const std::invalid_argument& e) {
            throw RequestError(400, e.what(), param_of(e.what()));
        }
    } else {
        job.prompt = req.prompt_is_tokens ? req.prompt_tokens
                                          : b.tokenizer->encode(req.prompt_text, true, true);
    }
    if (job.prompt.size() >= b.n_ctx) {
        throw RequestError(400,
                           "the prompt has " + std::to_string(job.prompt.size()) +
                               " tokens but the context holds " + std::to_string(b.n_ctx) +
                               " (--ctx), which must also leave room for the answer",
                           req.endpoint == Endpoint::Chat ? "messages" : "prompt",
                           "context_length_exceeded");
    }
    job.max_tokens = req.max_tokens.value_or(options_.max_tokens_limit);
    job.sampling = req.sampling;
    if (!req.seed_given) job.sampling.seed = rng_();
    if (req.ignore_eos) {
        for (int32_t id : b.tokenizer->eog_ids())
            job.sampling.logit_bias.emplace_back(id, -INFINITY);
    }
    job.stop = req.stop;
    job.logprobs = req.logprobs;
    job.top_logprobs = req.top_logprobs;

    SessionInfo info{new_id(req.endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-"),
                     options_.model_id,
                     std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()};
    auto session = std::make_shared<CompletionSession>(req, std::move(info), out, metrics_);
    std::optional<uint64_t> id;
    try {
        id = b.engine->submit(std::move(job), [post = post_, session](GenerationEvent&& ev) {
            post([session, ev = std::move(ev)]() mutable { session->on_event(std::move(ev)); });
        });
    } catch (const std::invalid_argument& e) {
        throw RequestError(400, e.what(), param_of(e.what()));
    }
    if (!id) {
        throw RequestError(429,
                           "the server is busy: all " + std::to_string(b.n_slots) +
                               " slots are running and the request queue is full; retry later",
                           {}, "queue_full");
    }
    Engine* engine = b.engine;
    out->on_disconnect([engine, id = *id] { engine->cancel(id); });
    metrics_.record_request(route_label_, 200);
    session->start();
}

void Api::tokenize(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
    const ModelBackend& b = backend();
    const json body = parse_json_object(request.body);
    const auto content = body.find("content");
    if (content == body.end() || !content->is_string()) {
        throw RequestError(400, "'content' must be a string", "content");
    }
    bool add_special = false;
    bool with_pieces = false;
    for (auto [name, flag] :
         {std::pair{"add_special", &add_special}, {"with_pieces", &with_pieces}}) {
        const auto it = body.find(name);
        if (it == body.end() || it->is_null()) continue;
        if (!it->is_boolean())
            throw RequestError(400, std::string("'") + name + "' must be a boolean", name);
        *flag = it->get<bool>();
    }
    const std::vector<int32_t> ids =
        b.tokenizer->encode(content->get<std::string>(), add_special, true);
    json tokens = json::array();
    for (int32_t id : ids) {
        if (!with_pieces) {
            tokens.push_back(id);
            continue;
        }
        std::string piece;
        b.tokenizer->append_piece(id, false, piece);
        tokens.push_back({{"id", id}, {"piece", piece}});
    }
    reply_json(out, 200, {{"tokens", std::move(tokens)}});
}

void Api::detokenize(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
    const ModelBackend& b = backend();
    const json body = parse_json_object(request.body);
    const auto tokens = body.find("tokens");
    if (tokens == body.end() || !tokens->is_array()) {
        throw RequestError(400, "'tokens' must be a list of token ids", "tokens");
    }
    std::vector<int32_t> ids;
    for (size_t i = 0; i < tokens->size(); ++i) {
        const json& t = (*tokens)[i];
        if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
            t.get<int64_t>() >= static_cast<int64_t>(b.n_vocab)) {
            throw RequestError(400,
                               "'tokens[" + std::to_string(i) + "]' must be a token id in [0, " +
                                   std::to_string(b.n_vocab) + ")",
                               "tokens[" + std::to_string(i) + "]");
        }
        ids.push_back(t.get<int32_t>());
    }
    reply_json(out, 200, {{"content", b.tokenizer->decode(ids, false)}});
}

void Api::apply_template(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
    const json body = parse_json_object(request.body);
    RequestLimits limits{options_.max_tokens_limit, loaded() ? backend_.n_vocab : 0};
    CompletionRequest req = parse_chat_request(body, limits);
    if (const auto agp = body.find("add_generation_prompt"); agp != body.end() && !agp->is_null()) {
        if (!agp->is_boolean()) {
            throw RequestError(400, "'add_generation_prompt' must be a boolean",
                               "add_generation_prompt");
        }
        req.conversation["add_generation_prompt"] = agp->get<bool>();
    }
    try {
        reply_json(out, 200, {{"prompt", render_gemma4_chat(req.conversation)}});
    } catch (const std::invalid_argument& e) {
        throw RequestError(400, e.what(), param_of(e.what()));
    }
}

}  // namespace vkllm::server
