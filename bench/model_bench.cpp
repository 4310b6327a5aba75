#include "bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <stdexcept>

#include "bench/bench_record.h"
#include "bench/copy_bandwidth.h"
#include "runtime/model/loaded_model.h"
#include "runtime/ops/matvec.h"

namespace vkllm::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Random token ids that are ordinary text (avoid id 0..3, the pad/eos/bos/unk of Gemma).
std::vector<int32_t> random_tokens(uint32_t n, uint32_t n_vocab, std::mt19937& rng) {
    std::uniform_int_distribution<int32_t> pick(4, static_cast<int32_t>(n_vocab) - 1);
    std::vector<int32_t> t(n);
    for (auto& id : t) id = pick(rng);
    return t;
}

int32_t argmax(const float* logits, uint32_t n) {
    return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

}  // namespace

uint64_t decode_weight_bytes(const GgufFile& file, const Gemma4Config& config) {
    uint64_t bytes = 0;
    for (const TensorInfo& t : file.tensors()) {
        const bool embedding =
            t.name == "token_embd.weight" || t.name == "per_layer_token_embd.weight";
        if (embedding && !(t.name == "token_embd.weight" && config.tied_output)) {
            bytes += t.size_bytes / std::max<uint64_t>(1, t.ne[1]);  // one row per token
        } else if (embedding) {
            bytes += t.size_bytes;  // tied LM head reads the whole table
        } else if (ends_with(t.name, "_exps.weight") && config.n_expert > 0) {
            bytes += t.size_bytes / config.n_expert * config.n_expert_used;
        } else {
            bytes += t.size_bytes;
        }
    }
    return bytes;
}

namespace {

// The last decode step's GPU time by kernel, against the step's wall time.
void print_profile(const Gemma4Model& model, uint32_t batch, double step_ms, BenchRecord& record,
                   const nlohmann::json& model_fields) {
    const std::vector<Gemma4Model::KernelTime> prof = model.last_step_profile();
    double total = 0;
    for (const auto& k : prof) total += k.us;
    std::printf(
        "  batch %u step on the GPU: %.1f us of %.1f us wall (host recording before it: "
        "%.1f us); by kernel:\n",
        batch, total, step_ms * 1e3, model.last_step_record_us());
    nlohmann::json kernels = nlohmann::json::array();
    for (const auto& k : prof) {
        std::printf("    %-28s %5u dispatches %9.1f us %5.1f%%\n", k.module.c_str(), k.dispatches,
                    k.us, total > 0 ? 100 * k.us / total : 0.0);
        kernels.push_back({{"module", k.module}, {"dispatches", k.dispatches}, {"us", k.us}});
    }
    nlohmann::json fields = model_fields;
    fields.update({{"phase", "decode_profile"},
                   {"batch", batch},
                   {"gpu_us", total},
                   {"record_us", model.last_step_record_us()},
                   {"step_ms", step_ms},
                   {"kernels", kernels}});
    record.write(fields);
}

}  // namespace

int run_model_bench(const ModelBenchOptions& options) {
    if (options.batches.empty()) throw std::invalid_argument("--batches needs at least one size");
    const uint32_t max_batch = *std::max_element(options.batches.begin(), options.batches.end());
    vk::ContextOptions co;
    co.device = options.device;
    ModelOptions mo;
    // Tokens each sequence holds when decode starts.
    const uint32_t context = options.depth != 0 ? options.depth : options.prompt_tokens;
    mo.n_ctx = options.n_ctx != 0
                   ? options.n_ctx
                   : std::max(options.prompt_tokens, context) + options.gen_tokens + 8;
    mo.n_seq = std::max(1u, max_batch);
    mo.kv_k = options.kv_k;
    mo.kv_v = options.kv_v;
    mo.prefill_chunk = options.prefill_chunk;
    mo.int_dot_matvec = options.int_dot_matvec;
    mo.profile_dispatches = options.profile;
    mo.vram_budget = options.vram_budget;
    mo.expert_slots = options.expert_slots;
    mo.expert_compute = options.expert_compute;
    mo.expert_prefetch = options.expert_prefetch;
    mo.on_plan = options.on_plan;
    mo.on_upload = options.on_upload;
    const auto t_load = Clock::now();
    auto lm = LoadedModel::open(options.model, co, mo);
    const double load_s = seconds_since(t_load);
    Gemma4Model& model = *lm->model;
    const auto& info = lm->context->device().info();
    std::printf("device: %s (%s %s)\nmodel: %s, loaded in %.2f s\n", info.name.c_str(),
                info.driver_name.c_str(), vk::driver_version_string(info).c_str(),
                options.model.c_str(), load_s);

    const CopyBandwidth copies = measure_copy_bandwidth(*lm->context, options.repeat);
    const double roofline = copies.best_median();
    const uint64_t step_bytes = decode_weight_bytes(lm->file, model.config());
    std::printf("copy bandwidth (roofline): %.1f GB/s; weights read per decode step: %.1f MB\n",
                roofline, static_cast<double>(step_bytes) / 1e6);
    BenchRecord record(options.out_dir, "model", info, options.command_line);
    // Whether decode takes the integer mat-vec (for the types that have one).
    const bool int_dot = options.int_dot_matvec && ops::takes_int_dot(info);
    std::printf("decode mat-vec arithmetic: %s\n",
                int_dot ? "integer dot products on q8_1 activations" : "fp32");
    const nlohmann::json model_fields = {{"model", options.model},
                                         {"kv_k", traits_of(options.kv_k).name},
                                         {"kv_v", traits_of(options.kv_v).name},
                                         {"depth", context},
                                         {"n_ctx", model.n_ctx()},
                                         {"roofline_gbps", roofline},
                                         {"decode_weight_bytes", step_bytes},
                                         {"int_dot_matvec", int_dot}};
    const ExpertCachePlan& experts = model.memory_plan().experts;
    if (experts.streamed) {
        std::printf("experts: streamed, %u of %u cached per MoE layer (%.1f MiB of %.1f MiB)\n",
                    experts.slots_per_layer, model.config().n_expert,
                    static_cast<double>(experts.cache_bytes) / (1 << 20),
                    static_cast<double>(experts.expert_bytes) / (1 << 20));
    }
    // The expert cache's work since `before`, per token, printed and added to `f`.
    const auto cache_since = [&](const std::optional<ExpertCacheStats>& before, uint64_t tokens,
                                 nlohmann::json& f) {
        const std::optional<ExpertCacheStats> now = model.expert_cache_stats();
        if (!now || !before) return;
        const ExpertCacheStats d = now->since(*before);
        const double per = 1.0 / static_cast<double>(std::max<uint64_t>(tokens, 1));
        const double precision = d.prefetch_precision();
        std::printf(
            "  expert cache: hit rate %.3f, %.2f MB uploaded per token (%.1f experts), %.2f "
            "waves per layer-step, %.1f expert pairs on the CPU per token, prefetch %.1f "
            "experts per token (precision %.3f); host %.1f ms staging "
            "+ %.1f ms waiting for routes + %.1f ms CPU experts per token\n",
            d.hit_rate(), static_cast<double>(d.upload_bytes) * per / 1e6,
            static_cast<double>(d.uploads) * per,
            d.layer_steps ? static_cast<double>(d.waves) / static_cast<double>(d.layer_steps) : 0,
            static_cast<double>(d.cpu_pairs) * per, static_cast<double>(d.prefetched) * per,
            precision, d.upload_seconds * per * 1e3, d.route_seconds * per * 1e3,
            d.cpu_seconds * per * 1e3);
        f.update({{"expert_slots_per_layer", experts.slots_per_layer},
                  {"expert_hit_rate", d.hit_rate()},
                  {"expert_upload_bytes_per_token", static_cast<double>(d.upload_bytes) * per},
                  {"expert_uploads_per_token", static_cast<double>(d.uploads) * per},
                  {"expert_cpu_pairs_per_token", static_cast<double>(d.cpu_pairs) * per},
                  {"expert_prefetched_per_token", static_cast<double>(d.prefetched) * per},
                  {"expert_prefetch_precision", precision},
                  {"expert_waves_per_layer_step",
                   d.layer_steps ? static_cast<double>(d.waves) / static_cast<double>(d.layer_steps)
                                 : 0.0}});
    };

    std::mt19937 rng(1234);
    const uint32_t n_vocab = model.n_vocab();
    std::vector<std::vector<int32_t>> prompts;
    for (uint32_t s = 0; s < mo.n_seq; ++s) {
        prompts.push_back(random_tokens(options.prompt_tokens, n_vocab, rng));
    }

    // Prefill: warm-up (pipelines) on sequence 0, then timed on a cleared sequence.
    model.prefill(0, prompts[0]);
    model.truncate(0, 0);
    std::optional<ExpertCacheStats> cache0 = model.expert_cache_stats();
    auto t0 = Clock::now();
    std::vector<float> logits = model.prefill(0, prompts[0]);
    const double prefill_s = seconds_since(t0);
    const double prefill_tps = options.prompt_tokens / prefill_s;
    std::printf("\nprefill %u tokens (chunk %u): %.2f s, %.1f tok/s\n", options.prompt_tokens,
                options.prefill_chunk, prefill_s, prefill_tps);
    nlohmann::json fields = model_fields;
    fields.update({{"phase", "prefill"},
                   {"tokens", options.prompt_tokens},
                   {"chunk", options.prefill_chunk},
                   {"seconds", prefill_s},
                   {"tok_per_s", prefill_tps}});
    cache_since(cache0, options.prompt_tokens, fields);
    record.write(fields);
    // With --depth, every sequence decodes after its own `depth` random tokens instead of the
    // prompt: sequence 0's fill is timed (prefill at that length).
    if (options.depth != 0) {
        for (uint32_t s = 0; s < mo.n_seq; ++s) {
            prompts[s] = random_tokens(options.depth, n_vocab, rng);
        }
        model.truncate(0, 0);
        t0 = Clock::now();
        logits = model.prefill(0, prompts[0]);
        const double fill_s = seconds_since(t0);
        std::printf("fill to depth %u (chunk %u): %.2f s, %.1f tok/s\n", options.depth,
                    model.prefill_chunk(), fill_s, options.depth / fill_s);
        fields = model_fields;
        fields.update({{"phase", "fill"},
                       {"tokens", options.depth},
                       {"seconds", fill_s},
                       {"tok_per_s", options.depth / fill_s}});
        record.write(fields);
    }
    for (uint32_t s = 1; s < mo.n_seq; ++s) model.prefill(s, prompts[s]);

    std::printf("\ndecode after %u tokens of context\n%-6s %12s %14s %12s %9s %11s\n", context,
                "batch", "step ms", "tok/s (all)", "GB/s", "of copy", "dispatches");
    std::vector<int32_t> next(mo.n_seq, 0);
    for (uint32_t s = 0; s < mo.n_seq; ++s) next[s] = argmax(logits.data(), n_vocab);
    for (const uint32_t batch : options.batches) {
        if (batch == 0) continue;
        for (uint32_t s = 0; s < batch; ++s) {
            // A sliding-window ring may not roll back that far; then start the sequence over.
            if (model.truncate(s, context) < context) {
                model.truncate(s, 0);
                model.prefill(s, prompts[s]);
            }
        }
        std::vector<SeqToken> step(batch);
        const auto run_step = [&] {
            for (uint32_t s = 0; s < batch; ++s) step[s] = {s, next[s]};
            logits = model.decode(step);
            for (uint32_t s = 0; s < batch; ++s)
                next[s] = argmax(logits.data() + size_t{s} * n_vocab, n_vocab);
        };
        run_step();  // warm-up
        cache0 = model.expert_cache_stats();
        t0 = Clock::now();
        for (uint32_t i = 1; i < options.gen_tokens; ++i) run_step();
        const double s = seconds_since(t0);
        const double steps_per_s = (options.gen_tokens - 1) / s;
        // Weights are read once per step whatever the batch, so bandwidth counts steps.
        const double gbps = static_cast<double>(step_bytes) * steps_per_s / 1e9;
        const double frac = roofline > 0 ? gbps / roofline : 0;
        const uint32_t dispatches = model.last_step_dispatches();
        std::printf("%-6u %12.2f %14.1f %12.1f %8.0f%% %11u\n", batch, 1e3 / steps_per_s,
                    steps_per_s * batch, gbps, 100 * frac, dispatches);
        fields = model_fields;
        fields.update({{"phase", "decode"},
                       {"batch", batch},
                       {"steps", options.gen_tokens - 1},
                       {"step_ms", 1e3 / steps_per_s},
                       {"tok_per_s", steps_per_s * batch},
                       {"weight_gbps", gbps},
                       {"fraction_of_copy", frac},
                       {"dispatches_per_step", dispatches}});
        cache_since(cache0, uint64_t{options.gen_tokens - 1} * batch, fields);
        record.write(fields);
        if (options.profile) print_profile(model, batch, 1e3 / steps_per_s, record, model_fields);
    }
    std::printf("\nresults appended to %s\n", record.path().c_str());
    return 0;
}

}  // namespace vkllm::bench
