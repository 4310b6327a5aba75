// Gemma 4 reference: the attention block (§3.4), the dense MLP (§3.5) and the PLE injection
// (§3.7) of one layer, over a whole sequence.
#include <stdexcept>

#include "reference/activation.h"
#include "reference/attention.h"
#include "reference/gemma4_detail.h"
#include "reference/rope.h"

namespace vkllm::reference::gemma4_detail {
namespace {

// Per-head RMS with the D-wide weight (q_norm / k_norm), then NEOX RoPE with the layer's
// parameters; full layers divide θ by rope_freqs (proportional RoPE, §3.3).
Act norm_rope(const Model& m, const Gemma4LayerConfig& L, const Act& x, uint32_t n_heads,
              const TensorInfo& norm, std::span<const int32_t> pos) {
    const Act normed = rms(m, x, L.head_dim, &norm);
    std::span<const float> freqs;
    if (L.rope_uses_freqs) freqs = f32_data(m.file, *m.w.rope_freqs).first(L.n_rot / 2);
    return to_f32(
        ref::rope_neox(normed, L.head_dim, n_heads, L.n_rot, double{L.rope_base}, pos, freqs));
}

}  // namespace

Act attention_block(const Model& m, uint32_t l, const Act& h, std::span<const int32_t> pos,
                    std::vector<LayerKv>& kv) {
    const Gemma4LayerConfig& L = m.cfg.layers[l];
    const Gemma4LayerWeights& w = m.w.layers[l];
    const size_t T = pos.size();
    const Act x = rms(m, h, m.cfg.n_embd, w.attn_norm);
    const Act q = norm_rope(m, L, linear(m, *w.attn_q, x, T), L.n_heads, *w.attn_q_norm, pos);
    if (L.kv_source == l) {
        const Act k_raw = linear(m, *w.attn_k, x, T);
        // No attn_v: V is the raw K projection (before k_norm and RoPE), §3.4 step 3.
        const Act v_raw = w.attn_v != nullptr ? linear(m, *w.attn_v, x, T) : k_raw;
        kv[l].k = norm_rope(m, L, k_raw, L.n_kv_heads, *w.attn_k_norm, pos);
        kv[l].v = rms(m, v_raw, L.head_dim, nullptr);  // RMS_1, no RoPE
    }
    const LayerKv& src = kv[L.kv_source];
    if (src.k.empty()) throw std::logic_error("gemma4 reference: KV source layer not computed");
    const AttentionRefShape shape{L.head_dim, L.n_heads, L.n_kv_heads, static_cast<uint32_t>(T),
                                  static_cast<uint32_t>(T)};
    const AttentionRefParams params{1.0, 0.0, L.window};  // scale 1, no softcap (§3.4 step 6)
    const Act o = to_f32(attention(shape, params, q, src.k, src.v, pos, pos));
    const Act proj = linear(m, *w.attn_output, o, T);
    return rms(m, proj, m.cfg.n_embd, w.post_attention_norm, h);
}

Act dense_ffn_block(const Model& m, uint32_t l, const Act& a, size_t n_tokens) {
    const Gemma4LayerWeights& w = m.w.layers[l];
    const Act x = rms(m, a, m.cfg.n_embd, w.ffn_norm);
    const Act act = to_f32(
        ref::gelu_glu(linear(m, *w.ffn_gate, x, n_tokens), linear(m, *w.ffn_up, x, n_tokens)));
    const Act y = linear(m, *w.ffn_down, act, n_tokens);
    return rms(m, y, m.cfg.n_embd, w.post_ffw_norm, a);
}

Act ple_block(const Model& m, uint32_t l, const Act& a, const Act& pi, size_t n_tokens) {
    const Gemma4LayerWeights& w = m.w.layers[l];
    const size_t P = m.cfg.n_embd_per_layer, L = m.cfg.n_layer;
    Act pi_l(P * n_tokens);  // slice l of every token's [P, L] block
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t i = 0; i < P; ++i) pi_l[t * P + i] = pi[(t * L + l) * P + i];
    }
    const Act gated = to_f32(ref::gelu_glu(linear(m, *w.inp_gate, a, n_tokens), pi_l));
    const Act y = linear(m, *w.proj, gated, n_tokens);
    return rms(m, y, m.cfg.n_embd, w.post_norm, a);
}

}  // namespace vkllm::reference::gemma4_detail
