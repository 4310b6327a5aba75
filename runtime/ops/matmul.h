#pragma once
// Prefill mat-mat (the hot path of prompt processing): a ggml weight times M fp32 activation
// columns, for every weight type in VKLLM_WEIGHT_TYPES. Tiled through shared memory, fp32
// accumulation; decode-sized batches (M <= 8) belong to record_matvec. Only records; may be
// called any number of times in one CommandStream. docs/design/matmul.md has the kernel design.

#include <cstdint>

#include "runtime/ops/matvec.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// Output tile of one workgroup (bm weight rows x bn columns) and of one thread (tm x tn).
// bm % tm == 0, bn % tn == 0; all zero = chosen per device.
struct MatMulTile {
    uint32_t bm = 0, bn = 0, tm = 0, tn = 0;
};

// y[m * y_stride + n] = sum_k W[n][k] * x[m * x_stride + k] for n < N = weight.rows, m < M.
// Strides are in elements (x_stride >= K, y_stride >= N; ignored when M == 1).
struct MatMulArgs {
    WeightView weight;  // [K, N], possibly split over several bindings
    vk::BufferSpan x;   // M columns of K floats
    uint32_t x_stride = 0;
    vk::BufferSpan y;  // M columns of N floats
    uint32_t y_stride = 0;
    uint32_t M = 1;
    // Test hook: cap on workgroups per grid dimension x (0 = the device limit), to exercise the
    // fold of large row-tile counts into grid z.
    uint32_t max_groups_x = 0;
    // Test and bench hook: force a tile (must fit the device's shared memory and workgroup size).
    MatMulTile tile;
};

void record_matmul(vk::Context& ctx, vk::CommandStream& cs, const MatMulArgs& args);

// The tile record_matmul uses for M columns on a device when none is forced.
MatMulTile matmul_tile(const vk::DeviceInfo& info, uint32_t M);

// Multiply-adds counted as 2 flops: 2 * M * N * K (the bench divides by kernel time).
double matmul_flops(const MatMulArgs& args);

namespace detail {  // shared with matmul_id, which runs the same kernel
// `requested` when set (throws std::invalid_argument naming `op` if it is malformed or does not
// fit the device), else the device's tile for M columns.
MatMulTile resolve_tile(const vk::DeviceInfo& info, uint32_t M, const MatMulTile& requested,
                        const char* op);
uint32_t tile_threads(const MatMulTile& t);  // workgroup size: (bm / tm) * (bn / tn)
}  // namespace detail

}  // namespace vkllm::ops
