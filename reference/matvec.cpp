#include "reference/matvec.h"

#include <cmath>
#include <stdexcept>

#include "loader/quant_blocks.h"

namespace vkllm::reference {
namespace {

std::vector<float> dequantize_rows(GgmlType type, std::span<const std::byte> w, size_t K,
                                   size_t first_row, size_t rows) {
    const size_t rb = row_bytes(type, K);
    if ((first_row + rows) * rb > w.size()) {
        throw std::invalid_argument("reference: weight has fewer rows than asked for");
    }
    std::vector<float> out(rows * K);
    dequantize_row(type, w.subspan(first_row * rb, rows * rb), out);
    return out;
}

void dot(std::span<const float> w, std::span<const float> x, double& value, double& abs_sum) {
    value = 0;
    abs_sum = 0;
    for (size_t k = 0; k < w.size(); ++k) {
        const double p = static_cast<double>(w[k]) * static_cast<double>(x[k]);
        value += p;
        abs_sum += std::fabs(p);
    }
}

}  // namespace

DotResult matvec(GgmlType type, std::span<const std::byte> weight, size_t K, size_t N,
                 std::span<const float> x, size_t ncols, size_t x_stride) {
    const std::vector<float> w = dequantize_rows(type, weight, K, 0, N);
    DotResult out{std::vector<double>(ncols * N), std::vector<double>(ncols * N)};
    for (size_t c = 0; c < ncols; ++c) {
        for (size_t r = 0; r < N; ++r) {
            dot(std::span(w).subspan(r * K, K), x.subspan(c * x_stride, K), out.value[c * N + r],
                out.abs_sum[c * N + r]);
        }
    }
    return out;
}

DotResult matvec_id(GgmlType type, std::span<const std::byte> weight, size_t K, size_t N,
                    size_t n_experts, std::span<const uint32_t> ids, size_t ids_stride,
                    size_t n_used, size_t n_tokens, std::span<const float> x, size_t x_stride,
                    bool x_per_slot) {
    const size_t pairs = n_tokens * n_used;
    DotResult out{std::vector<double>(pairs * N), std::vector<double>(pairs * N)};
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t s = 0; s < n_used; ++s) {
            const size_t e = ids[t * ids_stride + s];
            if (e >= n_experts) throw std::invalid_argument("reference: expert id out of range");
            const std::vector<float> w = dequantize_rows(type, weight, K, e * N, N);
            const size_t pair = t * n_used + s;
            const size_t xi = x_per_slot ? pair : t;
            for (size_t r = 0; r < N; ++r) {
                dot(std::span(w).subspan(r * K, K), x.subspan(xi * x_stride, K),
                    out.value[pair * N + r], out.abs_sum[pair * N + r]);
            }
        }
    }
    return out;
}

std::vector<double> get_rows(GgmlType type, std::span<const std::byte> table, size_t K,
                             std::span<const uint32_t> ids, double scale) {
    std::vector<double> out(ids.size() * K);
    for (size_t t = 0; t < ids.size(); ++t) {
        const std::vector<float> w = dequantize_rows(type, table, K, ids[t], 1);
        for (size_t k = 0; k < K; ++k) out[t * K + k] = static_cast<double>(w[k]) * scale;
    }
    return out;
}

}  // namespace vkllm::reference
