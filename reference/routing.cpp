#include "reference/routing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace vkllm::ref {

std::vector<uint32_t> argmax_rows(std::span<const float> x, size_t n) {
    if (n == 0 || x.size() % n != 0)
        throw std::invalid_argument("ref::argmax_rows: bad row length");
    std::vector<uint32_t> ids;
    for (size_t base = 0; base < x.size(); base += n) {
        size_t best = 0;
        bool found = false;
        for (size_t i = 0; i < n; ++i) {
            const float v = x[base + i];
            if (std::isnan(v)) continue;
            if (!found || v > x[base + best]) {
                best = i;
                found = true;
            }
        }
        ids.push_back(static_cast<uint32_t>(best));
    }
    return ids;
}

MoeRoute moe_route(std::span<const float> logits, size_t n_experts, size_t k,
                   std::span<const float> expert_scale) {
    if (n_experts == 0 || k == 0 || k > n_experts || logits.size() % n_experts != 0) {
        throw std::invalid_argument("ref::moe_route: bad shape");
    }
    constexpr double neg_inf = -std::numeric_limits<double>::infinity();
    MoeRoute r;
    for (size_t base = 0; base < logits.size(); base += n_experts) {
        std::vector<double> l(n_experts);
        for (size_t e = 0; e < n_experts; ++e) {
            l[e] = std::isnan(logits[base + e]) ? neg_inf : double{logits[base + e]};
        }
        const double m = *std::max_element(l.begin(), l.end());
        std::vector<double> p(n_experts, 0.0);
        if (m != neg_inf) {
            double z = 0;
            for (double v : l) z += std::exp(v - m);
            for (size_t e = 0; e < n_experts; ++e) p[e] = std::exp(l[e] - m) / z;
        }
        std::vector<uint32_t> order(n_experts);
        std::iota(order.begin(), order.end(), 0u);
        // Descending P (P is strictly increasing in the logit, so equal P means equal logits),
        // then ascending index.
        std::stable_sort(order.begin(), order.end(),
                         [&](uint32_t a, uint32_t b) { return l[a] > l[b]; });
        double sum = 0;
        for (size_t j = 0; j < k; ++j) sum += p[order[j]];
        for (size_t j = 0; j < k; ++j) {
            const uint32_t e = order[j];
            double w = p[e] / std::max(sum, 6.103515625e-5);
            if (!expert_scale.empty()) w *= double{expert_scale[e]};
            r.ids.push_back(e);
            r.weights.push_back(w);
        }
    }
    return r;
}

}  // namespace vkllm::ref
