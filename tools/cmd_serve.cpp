// vkllm serve: the OpenAI-compatible HTTP server (server/, docs/design/server.md).
#include <cstdio>
#include <filesystem>

#include "server/gemma4_served_model.h"
#include "server/server_app.h"
#include "tools/commands.h"
#include "tools/model_args.h"

namespace vkllm::cli {
namespace {

void print_limits(const server::ServeOptions& o, const ModelOptions& m, uint16_t port) {
    std::fprintf(
        stderr,
        "vkllm serve: listening on http://%s:%u (model '%s' loading)\n"
        "  slots (--parallel)      %u\n"
        "  context per slot        %s\n"
        "  queue (--queue)         %u waiting requests, then 429\n"
        "  max body                %zu bytes (413 beyond)\n"
        "  max tokens per request  %u\n"
        "  max connections         %u\n"
        "  read timeout            %.1f s per request, idle keep-alive %.1f s\n"
        "  prefill chunk           %u tokens\n"
        "  api key                 %s\n",
        o.http.host.c_str(), port, o.api.model_id.c_str(), m.n_seq,
        m.n_ctx == 0 ? "model default" : std::to_string(m.n_ctx).c_str(), o.engine.max_queue,
        o.http.limits.max_body_bytes, o.api.max_tokens_limit, o.http.max_connections,
        static_cast<double>(o.http.read_timeout.count()) / 1000.0,
        static_cast<double>(o.http.idle_timeout.count()) / 1000.0, o.engine.prefill_chunk,
        o.api.api_key.empty() ? "none (anyone who can connect may use the server)" : "required");
}

}  // namespace

int cmd_serve(const ServeArgs& args) {
    server::ServeOptions options = args.serve;
    const std::filesystem::path path = resolve_model_path(args.model.path);
    options.api.model_file = path.filename().string();
    options.api.model_id = args.alias.empty() ? path.stem().string() : args.alias;
    ModelArgs model = args.model;
    model.path = path.string();
    // The engine's step budget is also the model's prefill chunk (its scratch is sized for it).
    model.options.prefill_chunk = options.engine.prefill_chunk;

    server::ServerApp app(options);
    return app.run([&] { return server::make_gemma4_served_model(open_model(model)); },
                   [&](uint16_t port) { print_limits(options, model.options, port); });
}

}  // namespace vkllm::cli
