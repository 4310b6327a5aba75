#pragma once
// CPU references for the decode mat-vec family (runtime/ops/matvec.h, get_rows.h): rows are
// dequantised with loader/quant_blocks.h, products are summed in fp64. Plain loops.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loader/ggml_type.h"

namespace vkllm::reference {

// Result of a dot-product reference: the value and sum_k |w_k x_k|, the scale an fp32 kernel's
// rounding error is proportional to.
struct DotResult {
    std::vector<double> value;
    std::vector<double> abs_sum;
};

// W: N rows of K elements of `type` (N * row_bytes(type, K) bytes). x: ncols columns of K floats,
// x_stride apart. Output index c * N + r.
DotResult matvec(GgmlType type, std::span<const std::byte> weight, size_t K, size_t N,
                 std::span<const float> x, size_t ncols, size_t x_stride);

// W stacks n_experts experts of N rows. For token t and slot s, e = ids[t * ids_stride + s],
// x vector xi = x_per_slot ? t * n_used + s : t. Output index (t * n_used + s) * N + r.
DotResult matvec_id(GgmlType type, std::span<const std::byte> weight, size_t K, size_t N,
                    size_t n_experts, std::span<const uint32_t> ids, size_t ids_stride,
                    size_t n_used, size_t n_tokens, std::span<const float> x, size_t x_stride,
                    bool x_per_slot);

// Rows ids[t] of a [K, V] table, dequantised and multiplied by scale. Output index t * K + k.
std::vector<double> get_rows(GgmlType type, std::span<const std::byte> table, size_t K,
                             std::span<const uint32_t> ids, double scale);

}  // namespace vkllm::reference
