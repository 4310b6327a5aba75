#pragma once
// CPU reference of the q8_1 activation quantizer (runtime/ops/quantize_q8.h) and a reader of its
// device layout, for tests of the integer dot-product mat-vec.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vkllm::reference {

// ncols columns of K floats (K a multiple of 32), column c at codes[c * K], d[c * K / 32].
struct Q8_1Columns {
    std::vector<int8_t> codes;
    std::vector<float> d;       // per 32-element block: max|x| / 127
    std::vector<float> sum_lo;  // per block: d * sum of codes 0..15
    std::vector<float> sum_hi;  // per block: d * sum of codes 16..31

    // Column c of x as the integer kernel sees it (d * code), into out[c * stride + k].
    void dequantize(size_t K, size_t ncols, size_t stride, std::span<float> out) const;
};

// Quantizes x (ncols columns x_stride apart) as the device does: d = max|x| / 127, codes
// round-half-even(x / d) clamped to +-127 (the device may differ by one code where x / d lands
// within rounding of a half).
Q8_1Columns quantize_q8_1(std::span<const float> x, size_t K, size_t ncols, size_t x_stride);

// Reads the device buffer of record_quantize_q8_1 (q8_1_bytes(K, ncols) bytes).
Q8_1Columns read_q8_1(std::span<const std::byte> bytes, size_t K, size_t ncols);

}  // namespace vkllm::reference
