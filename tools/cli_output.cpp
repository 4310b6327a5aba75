#include "tools/cli_output.h"

#include <cstdio>
#include <optional>
#include <random>

namespace vkllm::cli {

void print_timing(const GenerationResult& result) {
    const GenerationTiming& t = result.timing;
    std::fprintf(stderr,
                 "prefill %u tok (%u reused) %.1f tok/s | decode %u tok %.1f tok/s | "
                 "generated %zu | finish %s\n",
                 t.prefill_tokens, t.reused_tokens, t.prefill_tokens_per_second(), t.decode_tokens,
                 t.decode_tokens_per_second(), result.tokens.size(), finish_name(result.finish));
}

void print_expert_cache(const Gemma4Model& model) {
    const std::optional<ExpertCacheStats> st = model.expert_cache_stats();
    if (!st) return;
    std::fprintf(
        stderr,
        "expert cache: %u of %u experts per MoE layer, hit rate %.2f since the load, "
        "%llu uploaded (%.1f MB), %.2f waves per layer-step, %llu expert pairs on the CPU\n",
        model.memory_plan().experts.slots_per_layer, model.config().n_expert, st->hit_rate(),
        static_cast<unsigned long long>(st->uploads), static_cast<double>(st->upload_bytes) / 1e6,
        st->layer_steps ? static_cast<double>(st->waves) / static_cast<double>(st->layer_steps)
                        : 0.0,
        static_cast<unsigned long long>(st->cpu_pairs));
}

uint64_t random_seed() {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace vkllm::cli
