#include "runtime/ops/softcap.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct SoftcapPush {  // mirrors `Push` in shaders/softcap.comp (std430)
    uint32_t count;
    uint32_t x_off;
    uint32_t y_off;
    float cap;
    float inv_cap;
};
static_assert(sizeof(SoftcapPush) == 20);

}  // namespace

void record_softcap(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                    const vk::TensorSpans& y, float cap) {
    constexpr const char* op = "softcap";
    const uint32_t n = row_elems(x, op, "x");
    expect_eq(y.row_bytes, x.row_bytes, op, "y row bytes equal to x's:");
    expect_eq(y.rows, x.rows, op, "y rows equal to x's:");
    if (!(cap > 0.0f) || !std::isfinite(cap)) {
        throw std::invalid_argument("[softcap] expected a finite cap > 0, got " +
                                    std::to_string(cap));
    }
    const float inv_cap = static_cast<float>(1.0 / static_cast<double>(cap));
    const vk::Pipeline& p =
        ctx.pipelines().get({"softcap_f32", {k_workgroup}, sizeof(SoftcapPush), 2});
    for (const RowSegment& s : row_segments({&x, &y}, UINT32_MAX / n)) {
        const uint64_t count = s.rows * n;
        const SoftcapPush push{static_cast<uint32_t>(count), s.elem_off[0], s.elem_off[1], cap,
                               inv_cap};
        cs.dispatch(p, {vk::reads(s.parts[0]), vk::writes(s.parts[1])}, push,
                    fold_groups(ctx.device(), vk::groups_for(count, k_workgroup)));
    }
}

}  // namespace vkllm::ops
