#include "reference/softmax.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vkllm::ref {

std::vector<double> softmax_rows(std::span<const float> x, size_t n, double scale) {
    if (n == 0 || x.size() % n != 0)
        throw std::invalid_argument("ref::softmax_rows: bad row length");
    std::vector<double> y(x.size(), 0.0);
    for (size_t base = 0; base < x.size(); base += n) {
        double m = -std::numeric_limits<double>::infinity();
        for (size_t i = 0; i < n; ++i) m = std::max(m, scale * double{x[base + i]});
        if (std::isinf(m) && m < 0) continue;
        double sum = 0;
        for (size_t i = 0; i < n; ++i) sum += std::exp(scale * double{x[base + i]} - m);
        for (size_t i = 0; i < n; ++i)
            y[base + i] = std::exp(scale * double{x[base + i]} - m) / sum;
    }
    return y;
}

}  // namespace vkllm::ref
