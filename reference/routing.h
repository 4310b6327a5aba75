#pragma once
// CPU references for the selection ops: greedy argmax and MoE top-k routing
// (gemma4-model.md §3.6), fp64.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vkllm::ref {

// Per row of n values: the index of the largest value, ties to the lowest index, NaN ignored;
// 0 for a row with no non-NaN value.
std::vector<uint32_t> argmax_rows(std::span<const float> x, size_t n);

struct MoeRoute {
    std::vector<uint32_t> ids;    // [k, n_tokens]
    std::vector<double> weights;  // [k, n_tokens]
};

// Per token (row of E logits): P = softmax(logits); S = top-k by P, descending, ties to the lower
// index; w_e = P_e / max(sum_S P, 6.103515625e-5) * expert_scale[e] (empty scale: 1).
// NaN logits count as -inf; a token whose logits are all -inf gets weights 0.
MoeRoute moe_route(std::span<const float> logits, size_t n_experts, size_t k,
                   std::span<const float> expert_scale = {});

}  // namespace vkllm::ref
