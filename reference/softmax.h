#pragma once
// CPU reference for softmax over rows, fp64.

#include <cstddef>
#include <span>
#include <vector>

namespace vkllm::ref {

// y = softmax(scale * x) over every row of n values; -inf entries give 0, a row of only -inf
// gives zeros.
std::vector<double> softmax_rows(std::span<const float> x, size_t n, double scale = 1.0);

}  // namespace vkllm::ref
