#pragma once
// MoE router tail (gemma4-model.md §3.6 steps 3-5), per token, from the router logits:
//   P = softmax(logits) over all E experts; S = top-k of P (descending, ties to the lower index);
//   weights[j] = P_{S_j} / max(sum_{e in S} P_e, 6.103515625e-5) * expert_scale[S_j]
// expert_scale is ffn_down_exps.scale (the per-expert output scale c_e; optional, 1 if absent),
// folded into the routing weight as HF does (same result). NaN logits count as -inf.

#include <cstdint>
#include <optional>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct MoeRouteArgs {
    uint32_t n_experts = 0;                      // E
    uint32_t k = 0;                              // experts per token, 1..min(E, 64)
    std::optional<vk::BufferSpan> expert_scale;  // f32 {E}
};

// logits: f32 [E, n_tokens]; ids: uint32 [k, n_tokens]; weights: f32 [k, n_tokens].
void record_moe_route(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& logits,
                      const vk::TensorSpans& ids, const vk::TensorSpans& weights,
                      const MoeRouteArgs& args);

}  // namespace vkllm::ops
