#pragma once
// CPU reference for RMSNorm (gemma4-model.md §3.0), fp64 throughout.

#include <cstddef>
#include <span>
#include <vector>

namespace vkllm::ref {

// Over every slice of n consecutive elements of x:
//   y = residual + x / sqrt(mean(x^2) + eps) * scale * weight
// weight (n values) and residual (x's size) may be empty, meaning 1 and 0.
std::vector<double> rms_norm(std::span<const float> x, size_t n, double eps,
                             std::span<const float> weight = {}, double scale = 1.0,
                             std::span<const float> residual = {});

}  // namespace vkllm::ref
