#pragma once
// CPU references for the pointwise ops (gemma4-model.md §3.0, §3.8), fp64.

#include <cstddef>
#include <span>
#include <vector>

namespace vkllm::ref {

// gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh form.
double gelu_tanh(double x);

// out = gelu_tanh(gate) * up, elementwise.
std::vector<double> gelu_glu(std::span<const float> gate, std::span<const float> up);

// Fused layout: each group of 2n values is n gate values then n up values; out has half the size.
std::vector<double> gelu_glu_fused(std::span<const float> gate_up, size_t n);

// y = cap * tanh(x / cap).
std::vector<double> softcap(std::span<const float> x, double cap);

}  // namespace vkllm::ref
