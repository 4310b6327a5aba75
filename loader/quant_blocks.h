#pragma once
// CPU reference dequantiser for the ggml block formats of formats.md §2. Deliberately plain,
// scalar loops written straight from the spec: this is the oracle the GPU kernels are tested
// against, so clarity beats speed here.

#include <cstddef>
#include <span>

#include "loader/ggml_type.h"

namespace vkllm {

// True for the types dequantize_row() decodes: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q2_K..Q6_K, IQ4_NL, IQ4_XS, MXFP4.
bool can_dequantize(GgmlType type);

// Decodes dst.size() elements (a multiple of the block size) from src, which must be exactly
// the bytes of those blocks. Throws std::invalid_argument on a size mismatch or an unsupported
// type.
void dequantize_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst);

}  // namespace vkllm
