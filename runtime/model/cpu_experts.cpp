#include "runtime/model/cpu_experts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "loader/quant_blocks.h"

namespace vkllm {

namespace {

// a · b in fp32 with eight partial sums, a shape the compiler vectorizes without reassociating
// a single sum (no -ffast-math).
float dot(const float* a, const float* b, uint64_t n) {
    std::array<float, 8> acc{};
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (uint64_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
    }
    float s = 0.0f;
    for (; i < n; ++i) s += a[i] * b[i];
    for (const float v : acc) s += v;
    return s;
}

float gelu_tanh(float x) {
    constexpr float k = 0.7978845608028654f;  // sqrt(2 / pi)
    return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

// Calls f(begin, end) over [0, n) split into `threads` contiguous ranges, on that many threads
// (the caller's among them).
void parallel_for(uint64_t n, unsigned threads, const std::function<void(uint64_t, uint64_t)>& f) {
    const uint64_t t = std::max<uint64_t>(1, std::min<uint64_t>(threads, n));
    if (t == 1) {
        f(0, n);
        return;
    }
    std::vector<std::jthread> workers;
    for (uint64_t i = 1; i < t; ++i) {
        workers.emplace_back([&f, i, n, t] { f(n * i / t, n * (i + 1) / t); });
    }
    f(0, n / t);
}

}  // namespace

CpuExperts::CpuExperts(const GgufFile& file, const Gemma4Config& cfg, const Gemma4WeightsView& view,
                       unsigned threads)
    : file_(file), n_embd_(cfg.n_embd), n_ff_(cfg.n_ff_expert) {
    threads_ = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
    layers_.resize(cfg.n_layer);
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        const Gemma4LayerWeights& w = view.layers[l];
        layers_[l] = {w.ffn_gate_up_exps, w.ffn_gate_exps, w.ffn_up_exps, w.ffn_down_exps};
        for (const TensorInfo* t : w.expert_tensors()) {
            if (t != nullptr && !can_dequantize(t->type)) {
                throw std::runtime_error("[cpu experts] " + t->name + ": type " +
                                         std::string(traits_of(t->type).name) +
                                         " has no CPU decoder");
            }
        }
    }
}

void CpuExperts::rows_times(const TensorInfo& t, uint32_t expert, uint64_t rows, uint64_t r0,
                            uint64_t r1, std::span<const float* const> x, float* out) const {
    const uint64_t K = t.ne[0];
    const uint64_t rb = row_bytes(t.type, K);
    const std::span<const std::byte> data = file_.data(t).subspan(expert * rows * rb, rows * rb);
    std::vector<float> w(K);
    for (uint64_t r = r0; r < r1; ++r) {
        dequantize_row(t.type, data.subspan(r * rb, rb), w);
        for (size_t c = 0; c < x.size(); ++c) out[c * rows + r] = dot(w.data(), x[c], K);
    }
}

void CpuExperts::run(uint32_t layer, std::span<const Job> jobs) const {
    const LayerTensors& L = layers_.at(layer);
    if (L.down == nullptr) {
        throw std::logic_error("[cpu experts] layer " + std::to_string(layer) + " has no experts");
    }
    const uint64_t n = n_embd_, F = n_ff_;
    // 1. gate and up rows of every job: gu[j][c * 2F + r], gate rows then up rows.
    std::vector<std::vector<float>> gu(jobs.size());
    for (size_t j = 0; j < jobs.size(); ++j) gu[j].resize(jobs[j].x.size() * 2 * F);
    parallel_for(jobs.size() * 2 * F, threads_, [&](uint64_t begin, uint64_t end) {
        for (uint64_t i = begin; i < end;) {
            const uint64_t j = i / (2 * F), r0 = i % (2 * F);
            const uint64_t r1 = std::min(2 * F, r0 + (end - i));
            const Job& job = jobs[j];
            if (L.gate_up != nullptr) {
                rows_times(*L.gate_up, job.expert, 2 * F, r0, r1, job.x, gu[j].data());
            } else {  // gate rows [0, F), up rows [F, 2F), each tensor F rows per expert
                std::vector<float> part(job.x.size() * F);
                for (const auto& [t, lo] : {std::pair{L.gate, uint64_t{0}}, std::pair{L.up, F}}) {
                    const uint64_t a = std::max(r0, lo), b = std::min(r1, lo + F);
                    if (a >= b) continue;
                    rows_times(*t, job.expert, F, a - lo, b - lo, job.x, part.data());
                    for (size_t c = 0; c < job.x.size(); ++c) {
                        for (uint64_t r = a; r < b; ++r) {
                            gu[j][c * 2 * F + r] = part[c * F + (r - lo)];
                        }
                    }
                }
            }
            i += r1 - r0;
        }
    });
    // 2. act = gelu_tanh(gate) * up, F per token.
    std::vector<std::vector<float>> act(jobs.size());
    std::vector<std::vector<const float*>> act_cols(jobs.size());
    for (size_t j = 0; j < jobs.size(); ++j) {
        const size_t cols = jobs[j].x.size();
        act[j].resize(cols * F);
        for (size_t c = 0; c < cols; ++c) {
            const float* g = gu[j].data() + c * 2 * F;
            for (uint64_t r = 0; r < F; ++r) act[j][c * F + r] = gelu_tanh(g[r]) * g[F + r];
            act_cols[j].push_back(act[j].data() + c * F);
        }
    }
    // 3. down rows: y[c][r] for r < n.
    std::vector<std::vector<float>> dn(jobs.size());
    for (size_t j = 0; j < jobs.size(); ++j) dn[j].resize(jobs[j].x.size() * n);
    parallel_for(jobs.size() * n, threads_, [&](uint64_t begin, uint64_t end) {
        for (uint64_t i = begin; i < end;) {
            const uint64_t j = i / n, r0 = i % n, r1 = std::min(n, r0 + (end - i));
            rows_times(*L.down, jobs[j].expert, n, r0, r1, act_cols[j], dn[j].data());
            i += r1 - r0;
        }
    });
    for (size_t j = 0; j < jobs.size(); ++j) {
        for (size_t c = 0; c < jobs[j].y.size(); ++c) {
            std::copy_n(dn[j].data() + c * n, n, jobs[j].y[c]);
        }
    }
}

}  // namespace vkllm
