// vkllm serve: the OpenAI-compatible HTTP server (server/, docs/design/server.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "server/gemma4_served_model.h"
#include "server/server_app.h"
#include "tools/cli_generation.h"
#include "tools/cli_text.h"
#include "tools/commands.h"
#include "tools/model_args.h"

namespace vkllm::cli {
namespace {

uint32_t u32_option(const Args& args, const std::string& name, uint32_t fallback, uint32_t min,
                    uint32_t max) {
    return static_cast<uint32_t>(integer_option(args, name, fallback, min, max));
}

server::ServeOptions serve_options(const Args& args) {
    server::ServeOptions o;
    o.http.host = args.get_or("--host", "127.0.0.1");
    o.http.port = static_cast<uint16_t>(integer_option(args, "--port", 8080, 0, 65535));
    o.http.limits.max_body_bytes =
        static_cast<size_t>(integer_option(args, "--max-body-bytes", 8 << 20, 1024, 1LL << 32));
    o.http.max_connections = u32_option(args, "--max-connections", 256, 1, 100000);
    o.http.read_timeout = std::chrono::milliseconds(
        static_cast<int64_t>(number_option(args, "--read-timeout", 15.0) * 1000.0));
    o.http.idle_timeout = std::chrono::milliseconds(
        static_cast<int64_t>(number_option(args, "--idle-timeout", 60.0) * 1000.0));
    if (o.http.read_timeout.count() <= 0 || o.http.idle_timeout.count() <= 0) {
        throw std::invalid_argument("--read-timeout and --idle-timeout must be positive seconds");
    }
    const std::filesystem::path path = model_path(args);
    o.api.model_file = path.filename().string();
    o.api.model_id = args.get_or("--alias", path.stem().string());
    o.api.api_key = args.get_or("--api-key", "");
    if (o.api.api_key.empty()) {
        if (const char* env = std::getenv("VKLLM_API_KEY")) o.api.api_key = env;
    }
    o.api.max_tokens_limit = u32_option(args, "--max-tokens-limit", 4096, 1, 1u << 24);
    o.engine.max_queue = u32_option(args, "--queue", 64, 0, 1u << 20);
    o.engine.prefill_chunk = u32_option(args, "--prefill-chunk", 512, 1, 1u << 16);
    return o;
}

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

int cmd_serve(const Args& args) {
    args.allow_only({"-m", "--model", "--host", "--port", "--parallel", "--ctx", "--api-key",
                     "--kv-k", "--kv-v", "--device", "--max-body-bytes", "--max-tokens-limit",
                     "--max-connections", "--queue", "--prefill-chunk", "--read-timeout",
                     "--idle-timeout", "--alias"});
    const server::ServeOptions options = serve_options(args);
    ModelOptions model_options = model_options_from_args(args, 0);
    model_options.n_seq = u32_option(args, "--parallel", 4, 1, 256);
    model_options.prefill_chunk = options.engine.prefill_chunk;
    vk::ContextOptions context_options;
    context_options.device = args.get_or("--device", "");
    const std::string path = model_path(args);

    server::ServerApp app(options);
    return app.run(
        [&] {
            return server::make_gemma4_served_model(
                LoadedModel::open(path, context_options, model_options));
        },
        [&](uint16_t port) { print_limits(options, model_options, port); });
}

}  // namespace vkllm::cli
