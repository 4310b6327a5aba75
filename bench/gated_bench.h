#pragma once
// Times the front half of a decode MLP on the integer path two ways on the same weights: the
// gated mat-vec (ops::record_matvec_glu: gate, up, GELU-GLU and the q8_1 output in one dispatch)
// against what it replaces (two mat-vecs and record_gelu_glu with q8_out). Weights rotate through
// copies larger than any L2, as in bench_matvec; timestamps around each unit, warm-up first.

#include <cstdint>
#include <optional>

#include "bench/stats.h"
#include "loader/ggml_type.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

struct GatedResult {
    Stats fused_us;
    Stats separate_us;
    uint64_t weight_bytes = 0;  // gate + up
    uint32_t copies = 1;
};

// std::nullopt when the device lacks the integer path for `type` or the weights would not fit.
std::optional<GatedResult> bench_gated_matvec(vk::Context& ctx, GgmlType type, uint32_t K,
                                              uint32_t F, int repeat);

}  // namespace vkllm::bench
