#include "reference/norm.h"

#include <cmath>
#include <stdexcept>

namespace vkllm::ref {

std::vector<double> rms_norm(std::span<const float> x, size_t n, double eps,
                             std::span<const float> weight, double scale,
                             std::span<const float> residual) {
    if (n == 0 || x.size() % n != 0) throw std::invalid_argument("ref::rms_norm: bad slice length");
    std::vector<double> y(x.size());
    for (size_t base = 0; base < x.size(); base += n) {
        double ss = 0;
        for (size_t i = 0; i < n; ++i) ss += double{x[base + i]} * double{x[base + i]};
        const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
        for (size_t i = 0; i < n; ++i) {
            double v = double{x[base + i]} * inv * scale;
            if (!weight.empty()) v *= double{weight[i]};
            if (!residual.empty()) v += double{residual[base + i]};
            y[base + i] = v;
        }
    }
    return y;
}

}  // namespace vkllm::ref
