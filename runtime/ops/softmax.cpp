#include "runtime/ops/softmax.h"

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct SoftmaxPush {  // mirrors `Push` in shaders/softmax.comp (std430)
    uint32_t n;
    uint32_t rows;
    uint32_t x_off;
    uint32_t y_off;
    float scale;
};
static_assert(sizeof(SoftmaxPush) == 20);

}  // namespace

void record_softmax(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                    const vk::TensorSpans& y, float scale) {
    constexpr const char* op = "softmax";
    const uint32_t n = row_elems(x, op, "x");
    expect_eq(y.row_bytes, x.row_bytes, op, "y row bytes equal to x's:");
    expect_eq(y.rows, x.rows, op, "y rows equal to x's:");
    const vk::Pipeline& p =
        ctx.pipelines().get({"softmax_f32", {k_workgroup}, sizeof(SoftmaxPush), 2});
    for (const RowSegment& s : row_segments({&x, &y})) {
        const SoftmaxPush push{n, static_cast<uint32_t>(s.rows), s.elem_off[0], s.elem_off[1],
                               scale};
        cs.dispatch(p, {vk::reads(s.parts[0]), vk::writes(s.parts[1])}, push,
                    fold_groups(ctx.device(), s.rows));
    }
}

}  // namespace vkllm::ops
