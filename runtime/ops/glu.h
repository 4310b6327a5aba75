#pragma once
// Gated GELU of the Gemma 4 MLPs (gemma4-model.md §3.0): out = gelu_tanh(gate) * up, with
// gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed in f32.

#include <cstdint>
#include <optional>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// q8_out (both forms): also write the q8_1 form of out (quantize_q8.h: one vector per row of
// out, whose length must be a multiple of 32; q8_1_bytes(row, rows) bytes, 16-byte aligned) for
// the integer mat-vec that reads it, as record_quantize_q8_1 on out would, in the same dispatch.

// Separate inputs: gate, up and out are f32 tensors of the same shape.
void record_gelu_glu(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& gate,
                     const vk::TensorSpans& up, const vk::TensorSpans& out,
                     const std::optional<vk::BufferSpan>& q8_out = std::nullopt);

// Fused input: every group of 2n floats of `gate_up` holds n gate values then n up values (a
// matmul against ffn_gate_up_exps, whose rows 0..F-1 are gate and F..2F-1 up, with n = F). out
// has the same rows as gate_up and half its row length; n must divide out's row length.
void record_gelu_glu_fused(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& gate_up,
                           const vk::TensorSpans& out, uint32_t n,
                           const std::optional<vk::BufferSpan>& q8_out = std::nullopt);

}  // namespace vkllm::ops
