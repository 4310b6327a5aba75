#pragma once
// Times record_matvec for one weight type and shape with timestamp queries (warm-up, then
// `repeat` calls, each fenced by a barrier so calls do not overlap) and reports bytes moved per
// second against the weights' real size. Calls rotate through copies of the weight totalling at
// least k_rotation_bytes (more than any GPU's L2 or Infinity Cache), so a small matrix is timed
// streaming from memory as decode reads it, not from cache.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/stats.h"
#include "loader/ggml_type.h"
#include "runtime/ops/matvec.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

struct MatVecShape {
    uint32_t K = 0;     // inner (ne0)
    uint32_t N = 0;     // rows (ne1)
    std::string label;  // which tensors of which model have this shape; empty for --shapes
};

struct MatVecResult {
    Stats gbps;
    Stats us;
    uint64_t bytes_per_call = 0;
    uint32_t copies = 1;  // weights rotated through
};

// 512 MiB: twice the largest last-level GPU cache we know of (MI300X, 256 MiB); an H100 or
// H200 has 50 MiB of L2.
inline constexpr uint64_t k_rotation_bytes = 512ull << 20;

// Copies of a `weight_bytes` weight to rotate through: enough to pass k_rotation_bytes, at
// most a quarter of device memory and at most `repeat`.
uint32_t rotation_copies(uint64_t weight_bytes, uint64_t device_local, int repeat);

// Fills every part of a weight with a repeated block of valid random weights (shared with the
// expert bench): content does not change the timing, and quantizing hundreds of millions of
// values on the CPU would dominate the bench.
void upload_pattern(vk::Context& ctx, const vk::TensorSpans& t, GgmlType type, uint32_t K);
uint64_t device_local_bytes(const vk::DeviceInfo& info);
// `copies` weights of N rows of K, one uploaded with upload_pattern and the rest copied from it
// on the device.
std::vector<vk::TensorSpans> rotated_weights(vk::Context& ctx, vk::Arena& arena, GgmlType type,
                                             uint32_t K, uint32_t N, uint32_t copies);
// The q8_1 form of `vectors` vectors of K floats in x (K apart), made once in `arena` before the
// timing, as the model shares one quantization between the consumers of an input.
vk::BufferSpan quantize_once(vk::Context& ctx, vk::Arena& arena, const vk::BufferSpan& x,
                             uint32_t K, uint32_t vectors);

// How a case runs: the arithmetic (Float, or IntDot on x quantized once beforehand, outside the
// timing, as the model shares it between consumers) and rows per subgroup (0: the device's).
struct MatVecVariant {
    ops::MatVecPath path = ops::MatVecPath::Float;
    uint32_t rows_per_subgroup = 0;
    uint32_t split_k = 0;  // integer path: subgroups sharing a row group (0 = none)
};

// std::nullopt when the weight would not fit comfortably in device memory.
std::optional<MatVecResult> bench_matvec(vk::Context& ctx, GgmlType type, MatVecShape shape,
                                         uint32_t ncols, int repeat, MatVecVariant variant = {});

}  // namespace vkllm::bench
