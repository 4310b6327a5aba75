#include "runtime/ops/argmax.h"

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct ArgmaxPush {  // mirrors `Push` in shaders/argmax.comp (std430)
    uint32_t n;
    uint32_t rows;
    uint32_t x_off;
    uint32_t y_off;
};
static_assert(sizeof(ArgmaxPush) == 16);

}  // namespace

void record_argmax(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                   const vk::TensorSpans& ids) {
    constexpr const char* op = "argmax";
    const uint32_t n = row_elems(x, op, "x");
    expect_eq(ids.row_bytes, 4, op, "ids row bytes");
    expect_eq(ids.rows, x.rows, op, "ids rows equal to x's:");
    const vk::Pipeline& p =
        ctx.pipelines().get({"argmax_f32", {k_workgroup}, sizeof(ArgmaxPush), 2});
    for (const RowSegment& s : row_segments({&x, &ids})) {
        const ArgmaxPush push{n, static_cast<uint32_t>(s.rows), s.elem_off[0], s.elem_off[1]};
        cs.dispatch(p, {vk::reads(s.parts[0]), vk::writes(s.parts[1])}, push,
                    fold_groups(ctx.device(), s.rows));
    }
}

}  // namespace vkllm::ops
