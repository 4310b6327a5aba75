#include "tools/cli_output.h"

#include <cstdio>
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

uint64_t random_seed() {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace vkllm::cli
