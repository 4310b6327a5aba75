#include "reference/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace vkllm::reference {

std::vector<double> attention(const AttentionRefShape& s, const AttentionRefParams& params,
                              std::span<const float> q, std::span<const float> k,
                              std::span<const float> v, std::span<const int32_t> q_pos,
                              std::span<const int32_t> slot_pos) {
    const size_t D = s.head_dim;
    if (s.n_kv_heads == 0 || s.n_heads % s.n_kv_heads != 0 || q.size() != D * s.n_heads * s.n_q ||
        k.size() != D * s.n_kv_heads * s.n_slots || v.size() != k.size() || q_pos.size() != s.n_q ||
        slot_pos.size() != s.n_slots) {
        throw std::invalid_argument("[reference::attention] inconsistent shapes");
    }
    const uint32_t gqa = s.n_heads / s.n_kv_heads;
    std::vector<double> out(q.size(), 0.0);
    std::vector<double> scores(s.n_slots);
    for (uint32_t i = 0; i < s.n_q; ++i) {
        for (uint32_t a = 0; a < s.n_heads; ++a) {
            const size_t g = a / gqa;
            const float* qa = &q[(size_t{i} * s.n_heads + a) * D];
            double max_score = -std::numeric_limits<double>::infinity();
            for (uint32_t j = 0; j < s.n_slots; ++j) {
                const int64_t p = slot_pos[j], qp = q_pos[i];
                const bool visible =
                    p >= 0 && p <= qp && (params.window == 0 || qp - p < params.window);
                if (!visible) {
                    scores[j] = -std::numeric_limits<double>::infinity();
                    continue;
                }
                const float* kj = &k[(size_t{j} * s.n_kv_heads + g) * D];
                double dot = 0;
                for (size_t d = 0; d < D; ++d) dot += double{qa[d]} * double{kj[d]};
                double score = dot * params.scale;
                if (params.softcap > 0) score = params.softcap * std::tanh(score / params.softcap);
                scores[j] = score;
                max_score = std::max(max_score, score);
            }
            if (std::isinf(max_score)) continue;  // nothing visible: zeros
            double sum = 0;
            double* o = &out[(size_t{i} * s.n_heads + a) * D];
            for (uint32_t j = 0; j < s.n_slots; ++j) {
                if (std::isinf(scores[j])) continue;
                const double w = std::exp(scores[j] - max_score);
                sum += w;
                const float* vj = &v[(size_t{j} * s.n_kv_heads + g) * D];
                for (size_t d = 0; d < D; ++d) o[d] += w * double{vj[d]};
            }
            for (size_t d = 0; d < D; ++d) o[d] /= sum;
        }
    }
    return out;
}

}  // namespace vkllm::reference
