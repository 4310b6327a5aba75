#pragma once
// CPU reference for RoPE with NEOX pairing (gemma4-model.md §3.3), fp64 throughout: the angle
// is formed exactly as written, theta_i = p * base^(-2i/n_rot) / freq_factors[i].

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vkllm::ref {

// x: [head_dim, n_heads, n_tokens]; positions: [n_tokens]; freq_factors: n_rot/2 values or empty.
std::vector<double> rope_neox(std::span<const float> x, size_t head_dim, size_t n_heads,
                              size_t n_rot, double freq_base, std::span<const int32_t> positions,
                              std::span<const float> freq_factors = {});

}  // namespace vkllm::ref
