#pragma once
// Final-logit soft-capping (gemma4-model.md §3.8): y = cap * tanh(x / cap), elementwise on an
// f32 tensor. cap must be > 0 (a cap of 0 means "disabled": do not record the op). y may alias x.

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

void record_softcap(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                    const vk::TensorSpans& y, float cap);

}  // namespace vkllm::ops
