#include "reference/q8_1.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vkllm::reference {

void Q8_1Columns::dequantize(size_t K, size_t ncols, size_t stride, std::span<float> out) const {
    for (size_t c = 0; c < ncols; ++c) {
        for (size_t k = 0; k < K; ++k) {
            out[c * stride + k] = d[(c * K + k) / 32] * static_cast<float>(codes[c * K + k]);
        }
    }
}

Q8_1Columns quantize_q8_1(std::span<const float> x, size_t K, size_t ncols, size_t x_stride) {
    if (K % 32 != 0) throw std::invalid_argument("quantize_q8_1: K must be a multiple of 32");
    Q8_1Columns q;
    q.codes.resize(K * ncols);
    const size_t blocks = K / 32 * ncols;
    q.d.resize(blocks);
    q.sum_lo.resize(blocks);
    q.sum_hi.resize(blocks);
    for (size_t c = 0; c < ncols; ++c) {
        for (size_t b = 0; b < K / 32; ++b) {
            const float* v = x.data() + c * x_stride + b * 32;
            float amax = 0.0f;
            for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
            const float d = amax / 127.0f;
            const float id = d > 0.0f ? 1.0f / d : 0.0f;
            int sums[2] = {0, 0};
            for (size_t i = 0; i < 32; ++i) {
                const float r = std::nearbyint(v[i] * id);  // default mode: half to even
                const int code = std::clamp(static_cast<int>(r), -127, 127);
                q.codes[c * K + b * 32 + i] = static_cast<int8_t>(code);
                sums[i / 16] += code;
            }
            const size_t bi = c * (K / 32) + b;
            q.d[bi] = d;
            q.sum_lo[bi] = d * static_cast<float>(sums[0]);
            q.sum_hi[bi] = d * static_cast<float>(sums[1]);
        }
    }
    return q;
}

Q8_1Columns read_q8_1(std::span<const std::byte> bytes, size_t K, size_t ncols) {
    const size_t blocks = K / 32 * ncols;
    if (bytes.size() < K * ncols + blocks * 16) {
        throw std::invalid_argument("read_q8_1: buffer smaller than the q8_1 layout");
    }
    Q8_1Columns q;
    q.codes.resize(K * ncols);
    std::memcpy(q.codes.data(), bytes.data(), K * ncols);
    q.d.resize(blocks);
    q.sum_lo.resize(blocks);
    q.sum_hi.resize(blocks);
    for (size_t b = 0; b < blocks; ++b) {
        float e[4];
        std::memcpy(e, bytes.data() + K * ncols + b * 16, sizeof(e));
        q.d[b] = e[0];
        q.sum_lo[b] = e[1];
        q.sum_hi[b] = e[2];
    }
    return q;
}

}  // namespace vkllm::reference
