#pragma once
// Softmax over every row of an f32 tensor: y = softmax(scale * x), max-subtracted, fp32
// accumulation. -inf entries (masked) get 0; a row of only -inf gives all zeros. y may alias x.

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

void record_softmax(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                    const vk::TensorSpans& y, float scale = 1.0f);

}  // namespace vkllm::ops
