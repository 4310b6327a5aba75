// Gemma 4 reference: the MoE feed-forward block (§3.6) — shared MLP, router, top-k experts with
// per-expert output scale, and the three post-norms.
#include <cmath>

#include "reference/activation.h"
#include "reference/gemma4_detail.h"
#include "reference/matvec.h"
#include "reference/routing.h"

namespace vkllm::reference::gemma4_detail {
namespace {

// For every (token, slot) pair the selected expert's W · x: [N, k, T]. x is per token
// ([in, T]) or per pair ([in, k, T]).
Act experts(const Model& m, const TensorInfo& w, const std::vector<uint32_t>& ids, size_t k,
            size_t n_tokens, std::span<const float> x, bool x_per_slot) {
    const size_t in = w.ne[0], out = w.ne[1], n_expert = w.ne[2];
    return to_f32(
        matvec_id(w.type, m.file.data(w), in, out, n_expert, ids, k, k, n_tokens, x, in, x_per_slot)
            .value);
}

}  // namespace

Act moe_ffn_block(const Model& m, uint32_t l, const Act& a, size_t n_tokens) {
    const Gemma4Config& c = m.cfg;
    const Gemma4LayerWeights& w = m.w.layers[l];
    const size_t n = c.n_embd, F = c.n_ff_expert, k = c.n_expert_used, T = n_tokens;

    // 1. Shared MLP, post-normed with post_ffw_norm_1.
    const Act x = rms(m, a, n, w.ffn_norm);
    const Act sh_act =
        to_f32(ref::gelu_glu(linear(m, *w.ffn_gate, x, T), linear(m, *w.ffn_up, x, T)));
    const Act y_sh = rms(m, linear(m, *w.ffn_down, sh_act, T), n, w.post_ffw_norm_1);

    // 2-5. Router on RMS_1(a) / √n ⊙ scale; softmax, top-k, renormalise, × per-expert scale.
    const Act r = rms(m, a, n, w.ffn_gate_inp_scale, {}, 1.0 / std::sqrt(static_cast<double>(n)));
    const Act logits = linear(m, *w.ffn_gate_inp, r, T);
    const std::span<const float> expert_scale = w.ffn_down_exps_scale != nullptr
                                                    ? f32_data(m.file, *w.ffn_down_exps_scale)
                                                    : std::span<const float>{};
    const ref::MoeRoute route = ref::moe_route(logits, c.n_expert, k, expert_scale);

    // 6. Experts on RMS_{pre_ffw_norm_2}(a): gelu(gate) ⊙ up, then down.
    const Act u = rms(m, a, n, w.pre_ffw_norm_2);
    Act act;
    if (w.ffn_gate_up_exps != nullptr) {  // fused: rows 0..F-1 gate, F..2F-1 up
        act = to_f32(
            ref::gelu_glu_fused(experts(m, *w.ffn_gate_up_exps, route.ids, k, T, u, false), F));
    } else {
        act = to_f32(ref::gelu_glu(experts(m, *w.ffn_gate_exps, route.ids, k, T, u, false),
                                   experts(m, *w.ffn_up_exps, route.ids, k, T, u, false)));
    }
    const Act down = experts(m, *w.ffn_down_exps, route.ids, k, T, act, true);  // [n, k, T]
    Act y_moe(n * T);
    for (size_t t = 0; t < T; ++t) {
        for (size_t i = 0; i < n; ++i) {
            double sum = 0;
            for (size_t s = 0; s < k; ++s) {
                sum += route.weights[t * k + s] * double{down[(t * k + s) * n + i]};
            }
            y_moe[t * n + i] = static_cast<float>(sum);
        }
    }

    // 7-8. Post-norm the expert mix, add the shared output, post-norm the sum, add to a.
    const Act y_moe_n = rms(m, y_moe, n, w.post_ffw_norm_2);
    Act sum(n * T);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] = y_sh[i] + y_moe_n[i];
    return rms(m, sum, n, w.post_ffw_norm, a);
}

}  // namespace vkllm::reference::gemma4_detail
