#pragma once
// Weight tensors reach the device through here: every part of a row-split tensor is written in
// the device layout the kernels decode (quant/device_layout.h), from the GGUF bytes, piece by
// piece through the staging buffer, so no rewritten copy of a tensor exists in host memory.

#include <cstddef>
#include <span>

#include "loader/ggml_type.h"
#include "runtime/vk/arena.h"
#include "runtime/vk/transfer.h"

namespace vkllm::ops {

// Uploads `gguf` (the whole tensor, dst.total_bytes() bytes in GGUF order) into dst.
void upload_weight(vk::Transfer& transfer, const vk::TensorSpans& dst, GgmlType type,
                   std::span<const std::byte> gguf);

// One part on its own: `gguf` holds exactly the part's rows (groups count from its start).
void upload_weight_part(vk::Transfer& transfer, const vk::BufferSpan& part, GgmlType type,
                        std::span<const std::byte> gguf);

}  // namespace vkllm::ops
