#pragma once
// Times the MoE expert mat-vec (record_matvec_id) and the grouped expert mat-mat
// (record_matmul_id, grouping pass included) on the same routing: T tokens, each sent to k
// distinct random experts of E, through a [K, N, E] weight. Timestamp queries, warm-up, then
// `repeat` calls of each, fenced by barriers so calls do not overlap.

#include <cstdint>
#include <optional>

#include "bench/stats.h"
#include "loader/ggml_type.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

struct ExpertShape {
    uint32_t K, N, E, k;
};

struct ExpertResult {
    Stats matvec_us;  // fp32 expert mat-vec
    Stats matmul_us;
    std::optional<Stats> matvec_int_us;  // integer expert mat-vec, where the device has it
    // The gated integer expert mat-vec (record_matvec_id_glu: gate_up, GELU-GLU and the q8_1
    // output of F = N / 2 per pair), where the device has the integer path.
    std::optional<Stats> gated_int_us;
};

// std::nullopt when the weight would not fit comfortably in device memory.
std::optional<ExpertResult> bench_experts(vk::Context& ctx, GgmlType type, ExpertShape shape,
                                          uint32_t tokens, int repeat);

}  // namespace vkllm::bench
