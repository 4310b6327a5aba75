#pragma once
// Fills a float buffer with a constant. The smallest op: the pattern every op follows is a
// push-constant struct mirrored from the shader (size checked), a pipeline looked up by
// description, and a record_* function that only records.

#include <cstdint>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

void record_fill(vk::Context& ctx, vk::CommandStream& cs, const vk::BufferSpan& out, uint32_t count,
                 float value);

}  // namespace vkllm::ops
