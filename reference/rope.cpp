#include "reference/rope.h"

#include <cmath>
#include <stdexcept>

namespace vkllm::ref {

std::vector<double> rope_neox(std::span<const float> x, size_t head_dim, size_t n_heads,
                              size_t n_rot, double freq_base, std::span<const int32_t> positions,
                              std::span<const float> freq_factors) {
    const size_t row = head_dim * n_heads;
    if (n_rot % 2 != 0 || n_rot > head_dim || x.size() != row * positions.size()) {
        throw std::invalid_argument("ref::rope_neox: bad shape");
    }
    const size_t half = n_rot / 2;
    std::vector<double> y(x.begin(), x.end());
    for (size_t t = 0; t < positions.size(); ++t) {
        for (size_t i = 0; i < half; ++i) {
            double theta = positions[t] * std::pow(freq_base, -2.0 * static_cast<double>(i) /
                                                                  static_cast<double>(n_rot));
            if (!freq_factors.empty()) theta /= double{freq_factors[i]};
            const double c = std::cos(theta), s = std::sin(theta);
            for (size_t h = 0; h < n_heads; ++h) {
                const size_t a = t * row + h * head_dim + i, b = a + half;
                const double u0 = x[a], u1 = x[b];
                y[a] = u0 * c - u1 * s;
                y[b] = u0 * s + u1 * c;
            }
        }
    }
    return y;
}

}  // namespace vkllm::ref
