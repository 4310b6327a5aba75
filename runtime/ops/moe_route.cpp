#include "runtime/ops/moe_route.h"

#include <stdexcept>
#include <string>

#include "runtime/ops/row_parts.h"

namespace vkllm::ops {
namespace {

constexpr uint32_t k_workgroup = 128;  // one token per workgroup; E = 128 is one expert each
constexpr uint32_t k_max_k = 64;       // the k outputs are written by invocations 0..k-1

struct MoeRoutePush {  // mirrors `Push` in shaders/moe_route.comp (std430)
    uint32_t n_experts;
    uint32_t k;
    uint32_t tokens;
    uint32_t l_off;
    uint32_t i_off;
    uint32_t w_off;
};
static_assert(sizeof(MoeRoutePush) == 24);

}  // namespace

void record_moe_route(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& logits,
                      const vk::TensorSpans& ids, const vk::TensorSpans& weights,
                      const MoeRouteArgs& args) {
    constexpr const char* op = "moe_route";
    expect_eq(row_elems(logits, op, "logits"), args.n_experts, op, "logits row length n_experts =");
    if (args.k == 0 || args.k > args.n_experts || args.k > k_max_k) {
        throw std::invalid_argument(
            "[moe_route] expected 1 <= k <= min(n_experts = " + std::to_string(args.n_experts) +
            ", " + std::to_string(k_max_k) + "), got " + std::to_string(args.k));
    }
    expect_eq(ids.row_bytes, uint64_t{args.k} * 4, op, "ids row bytes 4 * k =");
    expect_eq(weights.row_bytes, uint64_t{args.k} * 4, op, "weights row bytes 4 * k =");
    expect_eq(ids.rows, logits.rows, op, "ids rows (tokens) equal to logits':");
    expect_eq(weights.rows, logits.rows, op, "weights rows (tokens) equal to logits':");
    if (args.expert_scale && args.expert_scale->size < uint64_t{args.n_experts} * 4) {
        throw std::invalid_argument("[moe_route] expected an expert_scale of " +
                                    std::to_string(args.n_experts) + " floats, got " +
                                    std::to_string(args.expert_scale->size) + " bytes");
    }
    const vk::Pipeline& p = ctx.pipelines().get(
        {"moe_route_f32", {k_workgroup, args.expert_scale ? 1u : 0u}, sizeof(MoeRoutePush), 4});
    for (const RowSegment& s : row_segments({&logits, &ids, &weights})) {
        const MoeRoutePush push{args.n_experts, args.k,        static_cast<uint32_t>(s.rows),
                                s.elem_off[0],  s.elem_off[1], s.elem_off[2]};
        const vk::BufferSpan& scale = args.expert_scale ? *args.expert_scale : s.parts[0];
        cs.dispatch(p,
                    {vk::reads(s.parts[0]), vk::reads(scale), vk::writes(s.parts[1]),
                     vk::writes(s.parts[2])},
                    push, fold_groups(ctx.device(), s.rows));
    }
}

}  // namespace vkllm::ops
