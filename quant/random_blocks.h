#pragma once
// Random but well-formed quantised tensors for GPU kernel tests: every dequantizable type,
// finite scales, decoded magnitudes roughly O(1).

#include <cstddef>
#include <random>
#include <vector>

#include "loader/ggml_type.h"

namespace vkllm::quant {

// n_elems must be a multiple of the block size and can_dequantize(type) must hold; throws
// std::invalid_argument otherwise. Deterministic for a given rng state.
std::vector<std::byte> random_quantized(GgmlType type, size_t n_elems, std::mt19937_64& rng);

}  // namespace vkllm::quant
