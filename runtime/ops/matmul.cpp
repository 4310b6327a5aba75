#include "runtime/ops/matmul.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkllm::ops {
namespace {

struct MatMulPush {  // mirrors `Push` in shaders/matmul.comp (std430)
    uint32_t K;
    uint32_t M;
    uint32_t part_rows;
    uint32_t y_first;
    uint32_t x_stride;
    uint32_t y_stride;
};
static_assert(sizeof(MatMulPush) == 24);

constexpr uint32_t k_bindings = 3;  // weight, x, y
constexpr uint32_t k_window = 32;   // WIN in the shader: K elements staged per step

uint32_t threads(const MatMulTile& t) {
    return (t.bm / t.tm) * (t.bn / t.tn);
}
// a_tile + b_tile in the shader: 32 k-rows of BM + 1 and BN + 1 floats.
uint32_t shared_bytes(const MatMulTile& t) {
    return k_window * (t.bm + 1 + t.bn + 1) * 4;
}

bool fits(const vk::DeviceInfo& info, const MatMulTile& t) {
    return shared_bytes(t) <= info.max_shared_memory_bytes &&
           threads(t) <= info.max_workgroup_invocations;
}

}  // namespace

// CPUs (lavapipe) get a small tile of 16 invocations with 8 x 8 outputs each: little padding
// waste on small shapes, and enough work per invocation for lavapipe's SIMD lanes (tiny-dense
// prefill 80 -> 220 tok/s against 4 x 4 outputs). GPUs get 128-column tiles once M is large
// enough to fill them (each weight element is decoded once per 128 columns), else 64 or 32.
// Every tile stays within 32 KiB of shared memory (the large one takes 24.3 KiB): that is
// lavapipe's limit, so the device profiles reproduce the GPU choice exactly in CI, and it is
// also what 32 KiB GPUs (Mali, Adreno, Apple) offer (docs/design/device-profiles.md).
MatMulTile matmul_tile(const vk::DeviceInfo& info, uint32_t M) {
    constexpr MatMulTile k_small{32, 32, 4, 4};
    MatMulTile t{32, 32, 8, 8};
    if (info.type != VK_PHYSICAL_DEVICE_TYPE_CPU) {
        if (M > 64) {
            t = {64, 128, 4, 8};
        } else if (M > 32) {
            t = {64, 64, 4, 4};
        } else {
            t = {64, 32, 4, 4};
        }
    }
    if (!fits(info, t)) {
        t = k_small;  // 8.4 KiB, 64 invocations: within every Vulkan device's minimum limits
    }
    return t;
}

namespace detail {

uint32_t tile_threads(const MatMulTile& t) {
    return threads(t);
}

MatMulTile resolve_tile(const vk::DeviceInfo& info, uint32_t M, const MatMulTile& t,
                        const char* op) {
    if (t.bm == 0 && t.bn == 0 && t.tm == 0 && t.tn == 0) return matmul_tile(info, M);
    if (t.tm == 0 || t.tn == 0 || t.bm < t.tm || t.bn < t.tn || t.bm % t.tm != 0 ||
        t.bn % t.tn != 0 || !fits(info, t)) {
        throw std::invalid_argument(
            std::string("[") + op + "] expected a tile with bm % tm == bn % tn == 0 that " +
            "fits the device, got " + std::to_string(t.bm) + "x" + std::to_string(t.bn) + " / " +
            std::to_string(t.tm) + "x" + std::to_string(t.tn));
    }
    return t;
}

}  // namespace detail

double matmul_flops(const MatMulArgs& a) {
    return 2.0 * a.M * a.weight.rows * a.weight.K;
}

void record_matmul(vk::Context& ctx, vk::CommandStream& cs, const MatMulArgs& a) {
    constexpr const char* op = "matmul";
    detail::check_weight(a.weight, op);
    const uint32_t K = a.weight.K;
    const uint32_t N = a.weight.rows;
    if (a.M == 0) throw std::invalid_argument("[matmul] expected M >= 1, got 0");
    const uint32_t x_stride = a.M == 1 ? std::max(a.x_stride, K) : a.x_stride;
    const uint32_t y_stride = a.M == 1 ? std::max(a.y_stride, N) : a.y_stride;
    if (x_stride < K || y_stride < N) {
        throw std::invalid_argument("[matmul] expected x_stride >= K = " + std::to_string(K) +
                                    " and y_stride >= N = " + std::to_string(N) + ", got " +
                                    std::to_string(a.x_stride) + " and " +
                                    std::to_string(a.y_stride));
    }
    const uint64_t x_elems = uint64_t{a.M - 1} * x_stride + K;
    const uint64_t y_elems = uint64_t{a.M - 1} * y_stride + N;
    if (x_elems > UINT32_MAX || y_elems > UINT32_MAX) {
        throw std::invalid_argument("[matmul] expected x and y under 2^32 elements, got " +
                                    std::to_string(x_elems) + " and " + std::to_string(y_elems));
    }
    detail::check_floats(a.x, x_elems, op, "x");
    detail::check_floats(a.y, y_elems, op, "y");

    const vk::DeviceInfo& info = ctx.device().info();
    const MatMulTile t = detail::resolve_tile(info, a.M, a.tile, op);
    const bool vec4 = K % 4 == 0 && (a.M == 1 || x_stride % 4 == 0);
    const vk::Pipeline& p =
        ctx.pipelines().get({std::string("matmul_") + weight_type_suffix(a.weight.type),
                             {threads(t), t.bm, t.bn, t.tm, t.tn, vec4 ? 1u : 0u},
                             sizeof(MatMulPush),
                             k_bindings});

    const uint32_t col_tiles = vk::groups_for(a.M, t.bn);
    if (col_tiles > info.max_workgroup_count[1]) {
        throw std::invalid_argument("[matmul] expected M at most " +
                                    std::to_string(uint64_t{info.max_workgroup_count[1]} * t.bn) +
                                    ", got " + std::to_string(a.M));
    }
    uint32_t max_x = info.max_workgroup_count[0];
    if (a.max_groups_x != 0) max_x = std::min(max_x, a.max_groups_x);

    const vk::TensorSpans& w = *a.weight.data;
    for (size_t part = 0; part < w.parts.size(); ++part) {
        const auto rows = static_cast<uint32_t>(w.rows_in(part));
        if (rows == 0) continue;
        const uint32_t row_tiles = vk::groups_for(rows, t.bm);
        const uint32_t gx = std::min(row_tiles, max_x);
        const uint32_t gz = vk::groups_for(row_tiles, gx);
        if (gz > info.max_workgroup_count[2]) {
            throw std::invalid_argument(
                "[matmul] expected at most " +
                std::to_string(uint64_t{max_x} * info.max_workgroup_count[2]) +
                " row tiles per part, got " + std::to_string(row_tiles));
        }
        const MatMulPush push{K,        a.M,     rows, static_cast<uint32_t>(w.first_row(part)),
                              x_stride, y_stride};
        cs.dispatch(p, {vk::reads(w.parts[part]), vk::reads(a.x), vk::writes(a.y)}, push,
                    {gx, col_tiles, gz});
    }
}

}  // namespace vkllm::ops
