#pragma once
// RMSNorm (gemma4-model.md §3.0): y = residual + x * (mean(x^2) + eps)^-1/2 * scale * weight,
// computed independently over every slice of n consecutive floats.
//   * Row form (attn_norm, ffn_norm, output_norm, ...): n = the tensor's row length.
//   * Per-head form (attn_q_norm, attn_k_norm, V norm): n = head_dim on a
//     [head_dim, n_heads, n_tokens] tensor; the same head_dim weight serves every head.
// The weight is used as stored: Gemma 4 GGUFs carry no +1 offset (§2.5). Without a weight it is 1
// (V norm, router input). `scale` is an extra constant factor (the router's 1/sqrt(n_embd)).
// `residual` (optional, y's shape) fuses the residual add `h + RMS_w(x)`; y may alias x or it.

#include <cstdint>
#include <optional>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct RmsNormArgs {
    uint32_t n = 0;  // slice length; must divide the row length of x
    float eps = 1e-6f;
    float scale = 1.0f;
    std::optional<vk::BufferSpan> weight;     // f32 {n}
    std::optional<vk::TensorSpans> residual;  // f32, same rows and row length as x
    // Also write the q8_1 form of every slice (quantize_q8.h: vectors of n, in slice order) for
    // the integer mat-vec, as record_quantize_q8_1 on y would, in the same dispatch. Needs n a
    // multiple of 32 and no residual; q8_1_bytes(n, slices) bytes, 16-byte aligned.
    std::optional<vk::BufferSpan> q8_out;
};

// x, y: f32 tensors with the same rows and row length.
void record_rms_norm(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                     const vk::TensorSpans& y, const RmsNormArgs& args);

}  // namespace vkllm::ops
