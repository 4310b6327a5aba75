#pragma once
// MoE expert mix (gemma4-model.md §3.6 step 6): the routing-weighted sum of the k expert outputs
// of every token, out[t][i] = sum_s weights[t*k + s] * x[(t*k + s)*n + i], fp32, slots summed in
// order. x is the down-projection output of record_matvec_id ([n, k, n_tokens]), weights the
// output of record_moe_route ([k, n_tokens]). All three are single bindings.

#include <cstdint>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct MoeCombineArgs {
    uint32_t n = 0;  // row length (n_embd)
    uint32_t k = 0;  // experts per token
    uint32_t n_tokens = 0;
    vk::BufferSpan x;        // f32 [n, k, n_tokens]
    vk::BufferSpan weights;  // f32 [k, n_tokens]
    vk::BufferSpan out;      // f32 [n, n_tokens]
};

void record_moe_combine(vk::Context& ctx, vk::CommandStream& cs, const MoeCombineArgs& args);

}  // namespace vkllm::ops
