#include "runtime/ops/moe_combine.h"

#include <stdexcept>
#include <string>

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 256;

struct MoeCombinePush {  // mirrors `Push` in shaders/moe_combine.comp (std430)
    uint32_t n, k, count;
};
static_assert(sizeof(MoeCombinePush) == 12);

void need(const vk::BufferSpan& s, uint64_t floats, const char* what) {
    if (s.size < floats * 4) {
        throw std::invalid_argument(std::string("[moe_combine] expected ") + what +
                                    " of at least " + std::to_string(floats * 4) + " bytes, got " +
                                    std::to_string(s.size));
    }
}

}  // namespace

void record_moe_combine(vk::Context& ctx, vk::CommandStream& cs, const MoeCombineArgs& a) {
    if (a.n == 0 || a.k == 0 || a.n_tokens == 0) {
        throw std::invalid_argument("[moe_combine] expected n, k and n_tokens > 0");
    }
    const uint64_t count = uint64_t{a.n} * a.n_tokens;
    if (count * a.k > UINT32_MAX) throw std::length_error("[moe_combine] more than 2^32 elements");
    need(a.x, count * a.k, "x");
    need(a.weights, uint64_t{a.k} * a.n_tokens, "weights");
    need(a.out, count, "out");
    const vk::Pipeline& p =
        ctx.pipelines().get({"moe_combine_f32", {k_workgroup}, sizeof(MoeCombinePush), 3});
    cs.dispatch(p, {vk::reads(a.x), vk::reads(a.weights), vk::writes(a.out)},
                MoeCombinePush{a.n, a.k, static_cast<uint32_t>(count)},
                fold_groups(ctx.device(), vk::groups_for(count, k_workgroup)));
}

}  // namespace vkllm::ops
