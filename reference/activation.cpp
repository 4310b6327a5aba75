#include "reference/activation.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace vkllm::ref {

double gelu_tanh(double x) {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

std::vector<double> gelu_glu(std::span<const float> gate, std::span<const float> up) {
    if (gate.size() != up.size()) throw std::invalid_argument("ref::gelu_glu: size mismatch");
    std::vector<double> out(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) out[i] = gelu_tanh(gate[i]) * double{up[i]};
    return out;
}

std::vector<double> gelu_glu_fused(std::span<const float> gate_up, size_t n) {
    if (n == 0 || gate_up.size() % (2 * n) != 0) {
        throw std::invalid_argument("ref::gelu_glu_fused: bad group length");
    }
    std::vector<double> out;
    out.reserve(gate_up.size() / 2);
    for (size_t g = 0; g < gate_up.size(); g += 2 * n) {
        for (size_t i = 0; i < n; ++i)
            out.push_back(gelu_tanh(gate_up[g + i]) * double{gate_up[g + n + i]});
    }
    return out;
}

std::vector<double> softcap(std::span<const float> x, double cap) {
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = cap * std::tanh(double{x[i]} / cap);
    return y;
}

}  // namespace vkllm::ref
