#pragma once
// Times record_matvec for one weight type and shape with timestamp queries (warm-up, then
// `repeat` calls, each fenced by a barrier so calls do not overlap) and reports bytes moved per
// second against the weights' real size.

#include <cstdint>
#include <optional>

#include "bench/stats.h"
#include "loader/ggml_type.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

struct MatVecShape {
    uint32_t K;  // inner (ne0)
    uint32_t N;  // rows (ne1)
};

struct MatVecResult {
    Stats gbps;
    Stats us;
    uint64_t bytes_per_call = 0;
};

// Fills every part of a weight with a repeated block of valid random weights (shared with the
// expert bench): content does not change the timing, and quantizing hundreds of millions of
// values on the CPU would dominate the bench.
void upload_pattern(vk::Context& ctx, const vk::TensorSpans& t, GgmlType type, uint32_t K);
uint64_t device_local_bytes(const vk::DeviceInfo& info);

// std::nullopt when the weight would not fit comfortably in device memory.
std::optional<MatVecResult> bench_matvec(vk::Context& ctx, GgmlType type, MatVecShape shape,
                                         uint32_t ncols, int repeat);

}  // namespace vkllm::bench
