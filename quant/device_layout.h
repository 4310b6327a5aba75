#pragma once
// The device layout of weight blocks (docs/design/matvec.md, "Weights as the kernels read them").
// Q4_0, Q8_0 and Q6_K blocks are 18, 34 and 210 bytes, so in GGUF order their codes start only
// 2-byte aligned and kernels read them in 16-bit pieces. At upload each part of a tensor (the
// bytes one binding holds) is rewritten group by group: a group is 8 consecutive blocks counted
// from the part's start (fewer in the part's last group), stored as the 8 blocks without their
// fp16 scale d (16, 32 or 208 bytes each, so every block's codes start 16-byte aligned), then the
// 8 d values. A group keeps the byte range it had in GGUF order, so sizes, row offsets and
// partial uploads (group-aligned chunks) are unchanged; only the order inside a group differs.
// Other types keep the GGUF layout: their blocks are already 4- or 16-byte aligned, or (Q5_0,
// Q3_K) no Gemma 4 GGUF uses them for a large tensor.

#include <cstddef>
#include <cstdint>
#include <span>

#include "loader/ggml_type.h"

namespace vkllm::quant {

inline constexpr uint32_t k_layout_group_blocks = 8;

// True for the types stored grouped on the device (Q4_0, Q8_0, Q6_K).
bool has_grouped_layout(GgmlType type);

// Bytes of one full group (8 blocks) of a grouped type; 1 for any other type, whose bytes can be
// split anywhere. Upload chunks start at multiples of this from the part's start.
uint64_t layout_group_bytes(GgmlType type);

// Rewrites `src`, whole blocks in GGUF order that start at a group boundary of their part and
// end at a group boundary or at the part's end, into the device layout in `dst` (same size, not
// overlapping). Types without a grouped layout are copied. Throws std::invalid_argument when
// the sizes differ or are not whole blocks.
void to_device_layout(GgmlType type, std::span<const std::byte> src, std::span<std::byte> dst);

// The inverse of to_device_layout, under the same conditions.
void from_device_layout(GgmlType type, std::span<const std::byte> src, std::span<std::byte> dst);

// The CPU reference decoder of the device layout, read in place (not through
// from_device_layout): dst.size() elements of one part, or of a group-aligned piece of one as
// to_device_layout takes. Bit-identical to dequantize_row on the GGUF bytes.
void dequantize_device_layout(GgmlType type, std::span<const std::byte> src, std::span<float> dst);

}  // namespace vkllm::quant
