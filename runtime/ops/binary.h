#pragma once
// Elementwise add / mul with broadcast of the second operand, and scale by a constant, on f32
// tensors. For a of R rows of n floats and b of b_rows rows of b_n floats (b_n divides n, b_rows
// divides R):  out[r][c] = a[r][c] op b[r % b_rows][c % b_n].
// So b may be a scalar ({1}, e.g. layer_output_scale), one row ({n}), or a's full shape. When
// b_rows != R, b must be a single binding. out may alias a.

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

enum class BinaryOp : uint32_t { Add = 0, Mul = 1 };

void record_binary(vk::Context& ctx, vk::CommandStream& cs, BinaryOp op, const vk::TensorSpans& a,
                   const vk::TensorSpans& b, const vk::TensorSpans& out);

inline void record_add(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& a,
                       const vk::TensorSpans& b, const vk::TensorSpans& out) {
    record_binary(ctx, cs, BinaryOp::Add, a, b, out);
}
inline void record_mul(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& a,
                       const vk::TensorSpans& b, const vk::TensorSpans& out) {
    record_binary(ctx, cs, BinaryOp::Mul, a, b, out);
}

// out = a * s.
void record_scale(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& a,
                  const vk::TensorSpans& out, float s);

}  // namespace vkllm::ops
