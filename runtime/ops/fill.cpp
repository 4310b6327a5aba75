#include "runtime/ops/fill.h"

#include <stdexcept>

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct FillPush {  // mirrors `Push` in shaders/fill.comp (std430)
    uint32_t count;
    float value;
};
static_assert(sizeof(FillPush) == 8);

}  // namespace

void record_fill(vk::Context& ctx, vk::CommandStream& cs, const vk::BufferSpan& out, uint32_t count,
                 float value) {
    if (uint64_t{count} * 4 > out.size) throw std::out_of_range("record_fill: buffer too small");
    const vk::Pipeline& p = ctx.pipelines().get({"fill_f32", {k_workgroup}, sizeof(FillPush), 1});
    cs.dispatch(p, {vk::writes(out)}, FillPush{count, value}, {vk::groups_for(count, k_workgroup)});
}

}  // namespace vkllm::ops
