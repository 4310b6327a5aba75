#include "runtime/ops/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 64;

struct RopePush {  // mirrors `Push` in shaders/rope.comp (std430)
    uint32_t head_dim;
    uint32_t n_heads;
    uint32_t n_rot;
    uint32_t tokens;
    uint32_t pos_off;
    uint32_t x_off;
    uint32_t y_off;
    float s_hi;
    float s_lo;
    float inv_2pi_hi;
    float inv_2pi_lo;
};
static_assert(sizeof(RopePush) == 44);

// A double as an unevaluated sum hi + lo of two floats (~48 significant bits).
std::pair<float, float> split_double(double v) {
    const float hi = static_cast<float>(v);
    return {hi, static_cast<float>(v - static_cast<double>(hi))};
}

}  // namespace

void record_rope(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                 const vk::TensorSpans& y, const RopeArgs& args) {
    constexpr const char* op = "rope";
    const uint32_t row = row_elems(x, op, "x");
    expect_eq(row, uint64_t{args.head_dim} * args.n_heads, op, "x row length head_dim * n_heads =");
    expect_eq(y.row_bytes, x.row_bytes, op, "y row bytes equal to x's:");
    expect_eq(y.rows, x.rows, op, "y rows (tokens) equal to x's:");
    if (args.n_rot == 0 || args.n_rot % 2 != 0 || args.n_rot > args.head_dim) {
        throw std::invalid_argument(
            "[rope] expected an even n_rot in [2, head_dim = " + std::to_string(args.head_dim) +
            "], got " + std::to_string(args.n_rot));
    }
    if (!(args.freq_base > 0.0f) || !std::isfinite(args.freq_base)) {
        throw std::invalid_argument("[rope] expected a finite freq_base > 0, got " +
                                    std::to_string(args.freq_base));
    }
    if (args.positions.size < x.rows * 4) {
        throw std::invalid_argument("[rope] expected " + std::to_string(x.rows) +
                                    " int32 positions, got " + std::to_string(args.positions.size) +
                                    " bytes");
    }
    if (args.freq_factors && args.freq_factors->size < uint64_t{args.n_rot / 2} * 4) {
        throw std::invalid_argument("[rope] expected " + std::to_string(args.n_rot / 2) +
                                    " freq factors, got " +
                                    std::to_string(args.freq_factors->size) + " bytes");
    }
    const auto [s_hi, s_lo] =
        split_double(std::pow(static_cast<double>(args.freq_base), -2.0 / args.n_rot));
    const auto [c_hi, c_lo] = split_double(1.0 / (2.0 * std::numbers::pi));
    const vk::Pipeline& p = ctx.pipelines().get(
        {"rope_neox_f32", {k_workgroup, args.freq_factors ? 1u : 0u}, sizeof(RopePush), 4});
    const uint32_t threads = std::max(args.n_rot / 2, args.head_dim - args.n_rot);
    const uint32_t gx = vk::groups_for(threads, k_workgroup);
    for (const RowSegment& s : row_segments({&x, &y})) {
        RopePush push{args.head_dim, args.n_heads, args.n_rot, 0,    0,   s.elem_off[0],
                      s.elem_off[1], s_hi,         s_lo,       c_hi, c_lo};
        push.tokens = static_cast<uint32_t>(s.rows);
        push.pos_off = static_cast<uint32_t>(s.first_row);
        // Tokens over (y, z): y up to its limit, then folded into z.
        const auto& max_groups = ctx.device().info().max_workgroup_count;
        const uint64_t gy = std::min<uint64_t>(s.rows, max_groups[1]);
        const uint64_t gz = (s.rows + gy - 1) / gy;
        if (gz > max_groups[2]) throw std::length_error("[rope] too many tokens in one dispatch");
        const vk::BufferSpan& ff = args.freq_factors ? *args.freq_factors : s.parts[0];
        cs.dispatch(p,
                    {vk::reads(s.parts[0]), vk::reads(args.positions), vk::reads(ff),
                     vk::writes(s.parts[1])},
                    push, {gx, static_cast<uint32_t>(gy), static_cast<uint32_t>(gz)});
    }
}

}  // namespace vkllm::ops
