#pragma once
// Rotary position embedding, NEOX pairing (gemma4-model.md §3.3), on a [head_dim, n_heads,
// n_tokens] f32 tensor (rows = tokens). For pair i < n_rot/2 of every head of token t:
//   theta_i = positions[t] * freq_base^(-2i/n_rot) / freq_factors[i]
// element i and i + n_rot/2 rotate by theta_i; dims >= n_rot pass through.
// Gemma 4: SWA layers n_rot = head_dim = 256, base 1e4, no factors. Full layers ("proportional"
// RoPE) n_rot = head_dim = 512, base 1e6, freq_factors = rope_freqs (1 for i < 64, 1e30 after).
// theta is accurate to ~1e-6 rad for |position| < 2^24 (see shaders/rope.comp); y may alias x.

#include <cstdint>
#include <optional>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct RopeArgs {
    uint32_t head_dim = 0;
    uint32_t n_heads = 0;
    uint32_t n_rot = 0;  // even, <= head_dim
    float freq_base = 10000.0f;
    vk::BufferSpan positions;                    // int32 [n_tokens], |p| < 2^24
    std::optional<vk::BufferSpan> freq_factors;  // f32 [n_rot/2], each in (0, 1e34]
};

void record_rope(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                 const vk::TensorSpans& y, const RopeArgs& args);

}  // namespace vkllm::ops
