#pragma once
// CPU reference of the TurboQuant KV-cache types turbo2 / turbo3 ("TQ3") / turbo4 (formats.md §3):
// 128-element groups, each rotated by the fixed randomised Walsh-Hadamard transform F, coded as
// nearest-centroid indices with one f16 norm that restores the group's L2 norm. The GPU store
// kernel (shaders/kv_store_turbo.comp) is tested byte for byte against quantize_turbo_row, and the
// flash-attention kernel against dequantize_turbo_row followed by exact attention.
//
// Arithmetic follows the fork's C reference operation by operation in f32 (sequential sums, x
// times the reciprocal of the norm, butterflies in stage order), so the bytes equal its test
// vectors (formats.md §5.5, §5.6). turbo4 uses the CPU reference's thresholds (±0.145560,
// ±0.013963); the fork's Vulkan and CUDA kernels differ only for inputs within 1e-6 of those two.
// Not weight types: these never appear in GGUF files and quantize_row/dequantize_row do not take
// them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loader/ggml_type.h"

namespace vkllm::quant {

inline constexpr size_t k_turbo_group = 128;

// True for TURBO2_0, TURBO3_0, TURBO4_0.
bool is_turbo(GgmlType type);
// Index -> value table (4, 8 or 16 entries, ascending).
std::span<const float> turbo_centroids(GgmlType type);
// The sign vectors s1, s2 of F (+1 / -1).
float turbo_sign1(size_t i);
float turbo_sign2(size_t i);

// y = F x (forward, "direction 0") and x = F^T y (inverse, "direction 1") on one 128-group,
// in place, in f32 with the fork's operation order.
void turbo_rotate(std::span<float, k_turbo_group> v);
void turbo_unrotate(std::span<float, k_turbo_group> v);

// The centroid index of a rotated, unit-norm coordinate (the fixed thresholds of §3.3).
uint32_t turbo_index(GgmlType type, float y);

// Encodes src (a multiple of 128 elements, in the original domain) into blocks.
std::vector<std::byte> quantize_turbo_row(GgmlType type, std::span<const float> src);
// Decodes blocks to the ROTATED domain (centroid * norm), which is what attention consumes: apply
// turbo_unrotate per group for original-domain values.
void dequantize_turbo_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst);

// Rows of heads as a KV cache stores them (runtime/ops/kv_store.h): src holds heads of head_dim
// values back to back; each head is zero-padded to a multiple of 128 (formats.md §3.7) and coded.
size_t turbo_padded_dim(size_t head_dim);
std::vector<std::byte> quantize_turbo_heads(GgmlType type, std::span<const float> src,
                                            size_t head_dim);
// The values such blocks stand for in the original basis: dequantised, each group rotated back
// (F^T), the padding dropped. dst.size() is a multiple of head_dim.
void reconstruct_turbo_heads(GgmlType type, std::span<const std::byte> src, size_t head_dim,
                             std::span<float> dst);

}  // namespace vkllm::quant
