#pragma once
// Row quantisers on the CPU. For Q8_0, Q4_0, Q4_K and Q6_K the output is bit-identical to
// llama.cpp's no-imatrix `quantize_row_*_ref` (formats.md §2.5). The other types get correct,
// reasonable encoders (see the comments in quantize.cpp / quantize_k.cpp for which are exact).

#include <cstddef>
#include <span>
#include <vector>

#include "loader/ggml_type.h"

namespace vkllm::quant {

// True for the types quantize_row() can encode.
bool can_quantize(GgmlType type);

// Encodes src (size a multiple of the block size) into row_bytes(type, src.size()) bytes.
// Throws std::invalid_argument for an unsupported type or a bad length.
std::vector<std::byte> quantize_row(GgmlType type, std::span<const float> src);

}  // namespace vkllm::quant
