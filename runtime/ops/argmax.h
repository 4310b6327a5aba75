#pragma once
// Greedy sampling: ids[r] = index of the largest element of row r of x (f32), as uint32. Ties go
// to the lowest index, NaN never wins, and a row with no non-NaN element gives 0. Rows may be
// as long as the vocabulary (262144).

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// ids: uint32, one 4-byte row per row of x.
void record_argmax(vk::Context& ctx, vk::CommandStream& cs, const vk::TensorSpans& x,
                   const vk::TensorSpans& ids);

}  // namespace vkllm::ops
