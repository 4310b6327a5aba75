#include "runtime/ops/norm.h"

#include <stdexcept>

#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct RmsNormPush {  // mirrors `Push` in shaders/rms_norm.comp (std430)
    uint32_t n;
    uint32_t slices;
    uint32_t x_off;
    uint32_t r_off;
    uint32_t y_off;
    float eps;
    float scale;
    uint32_t q_slice0;
    uint32_t xd_first;
};
static_assert(sizeof(RmsNormPush) == 36);

}  // namespace

void record_rms_norm(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                     const vk::TensorSpans& y, const RmsNormArgs& args) {
    constexpr const char* op = "rms_norm";
    const uint32_t row = row_elems(x, op, "x");
    expect_eq(y.row_bytes, x.row_bytes, op, "y row bytes equal to x's:");
    expect_eq(y.rows, x.rows, op, "y rows equal to x's:");
    if (args.n == 0 || row % args.n != 0) {
        throw std::invalid_argument(
            "[rms_norm] expected a slice length n that divides the row length " +
            std::to_string(row) + ", got n = " + std::to_string(args.n));
    }
    if (!(args.eps >= 0.0f)) throw std::invalid_argument("[rms_norm] expected eps >= 0");
    if (args.weight && args.weight->size < uint64_t{args.n} * 4) {
        throw std::invalid_argument("[rms_norm] expected a weight of " + std::to_string(args.n) +
                                    " floats, got " + std::to_string(args.weight->size) + " bytes");
    }
    const vk::TensorSpans& res = args.residual ? *args.residual : x;
    if (args.residual) {
        expect_eq(res.row_bytes, x.row_bytes, op, "residual row bytes equal to x's:");
        expect_eq(res.rows, x.rows, op, "residual rows equal to x's:");
    }
    const uint64_t per_row = row / args.n;
    const uint64_t slices = uint64_t{x.rows} * per_row;
    if (args.q8_out) {
        if (args.n % 32 != 0 || args.residual || slices > UINT32_MAX / args.n) {
            throw std::invalid_argument(
                "[rms_norm] q8_out needs n a multiple of 32, no residual and under 2^32 elements, "
                "got n = " +
                std::to_string(args.n) + " x " + std::to_string(slices) +
                (args.residual ? " with a residual" : ""));
        }
        check_q8_1_span(*args.q8_out, args.n, slices, "rms_norm", "q8_out");
    }
    const vk::Pipeline& p = ctx.pipelines().get(
        {"rms_norm_f32",
         {k_workgroup, args.weight ? 1u : 0u, args.residual ? 1u : 0u, args.q8_out ? 1u : 0u},
         sizeof(RmsNormPush),
         5});
    const auto xd_first = static_cast<uint32_t>(slices * args.n / 16);
    for (const RowSegment& s : row_segments({&x, &res, &y}, UINT32_MAX / per_row)) {
        const RmsNormPush push{args.n,        static_cast<uint32_t>(s.rows * per_row),
                               s.elem_off[0], s.elem_off[1],
                               s.elem_off[2], args.eps,
                               args.scale,    static_cast<uint32_t>(s.first_row * per_row),
                               xd_first};
        const vk::BufferSpan& w = args.weight ? *args.weight : s.parts[0];
        // Without q8_out, binding 4 is y again and never touched.
        const vk::Binding q8 = args.q8_out ? vk::writes(*args.q8_out) : vk::writes(s.parts[2]);
        cs.dispatch(p,
                    {vk::reads(s.parts[0]), vk::reads(w), vk::reads(s.parts[1]),
                     vk::writes(s.parts[2]), q8},
                    push, fold_groups(ctx.device(), s.rows * per_row));
    }
}

}  // namespace vkllm::ops
