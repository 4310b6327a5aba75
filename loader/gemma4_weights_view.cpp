#include "loader/gemma4_weights_view.h"

#include <string>

#include "loader/model_file_error.h"
#include "loader/quant_blocks.h"

namespace vkllm {
namespace {

enum class Kind { Vector, Matrix };  // Vector: F32 only; Matrix: any type dequantize_row decodes

std::string shape_text(const std::vector<uint64_t>& ne) {
    std::string s = "{";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "}";
}

std::string shape_text(const TensorInfo& t) {
    std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + (t.n_dims == 0 ? 1 : t.n_dims));
    return shape_text(ne);
}

class Binder {
  public:
    explicit Binder(const GgufFile& f) : f_(f) {}

    // `why` spells the expected shape in model terms, e.g. "{n_embd, head_dim * n_heads}".
    const TensorInfo* req(const std::string& name, const std::vector<uint64_t>& ne, Kind kind,
                          const std::string& why) const {
        const TensorInfo* t = f_.find_tensor(name);
        if (t == nullptr) {
            throw ModelFileError(f_.name(), "required tensor '" + name + "' " + shape_text(ne) +
                                                " " + why + " is missing");
        }
        check(*t, ne, kind, why);
        return t;
    }
    const TensorInfo* opt(const std::string& name, const std::vector<uint64_t>& ne, Kind kind,
                          const std::string& why) const {
        const TensorInfo* t = f_.find_tensor(name);
        if (t != nullptr) check(*t, ne, kind, why);
        return t;
    }

  private:
    void check(const TensorInfo& t, const std::vector<uint64_t>& ne, Kind kind,
               const std::string& why) const {
        bool same = true;
        for (size_t i = 0; i < t.ne.size(); ++i) same &= t.ne[i] == (i < ne.size() ? ne[i] : 1);
        if (!same) {
            throw ModelFileError(f_.name(), "tensor '" + t.name + "' has shape " + shape_text(t) +
                                                " but the metadata implies " + shape_text(ne) +
                                                " " + why +
                                                ": the tensors and the metadata disagree");
        }
        const GgmlTypeTraits tr = traits_of(t.type);
        if (kind == Kind::Vector && t.type != GgmlType::F32) {
            throw ModelFileError(f_.name(), "tensor '" + t.name + "' has type " +
                                                std::string(tr.name) + "; expected f32");
        }
        if (kind == Kind::Matrix && !can_dequantize(t.type)) {
            throw ModelFileError(f_.name(), "tensor '" + t.name + "' has type " +
                                                std::string(tr.name) +
                                                ", which vkllm cannot decode");
        }
    }

    const GgufFile& f_;
};

void bind_attention(const Binder& b, const std::string& p, uint32_t n, const Gemma4LayerConfig& L,
                    bool owns_kv, Gemma4LayerWeights& w) {
    const uint64_t D = L.head_dim, q = L.q_dim(), kv = L.kv_dim();
    w.attn_norm = b.req(p + "attn_norm.weight", {n}, Kind::Vector, "{n_embd}");
    w.attn_q = b.req(p + "attn_q.weight", {n, q}, Kind::Matrix, "{n_embd, head_dim * n_heads}");
    w.attn_output =
        b.req(p + "attn_output.weight", {q, n}, Kind::Matrix, "{head_dim * n_heads, n_embd}");
    w.attn_q_norm = b.req(p + "attn_q_norm.weight", {D}, Kind::Vector, "{head_dim}");
    w.post_attention_norm = b.req(p + "post_attention_norm.weight", {n}, Kind::Vector, "{n_embd}");
    if (!owns_kv) return;  // shared-KV layer: K/V come from the source layer's cache
    const std::string kv_why = "{n_embd, head_dim * n_kv_heads}";
    w.attn_k = b.req(p + "attn_k.weight", {n, kv}, Kind::Matrix, kv_why);
    w.attn_v = b.opt(p + "attn_v.weight", {n, kv}, Kind::Matrix, kv_why);
    w.attn_k_norm = b.req(p + "attn_k_norm.weight", {D}, Kind::Vector, "{head_dim}");
}

void bind_ffn(const Binder& b, const std::string& p, const Gemma4Config& c,
              const Gemma4LayerConfig& L, Gemma4LayerWeights& w) {
    const uint64_t n = c.n_embd, f = L.n_ff;
    w.ffn_norm = b.req(p + "ffn_norm.weight", {n}, Kind::Vector, "{n_embd}");
    w.ffn_gate = b.req(p + "ffn_gate.weight", {n, f}, Kind::Matrix, "{n_embd, n_ff}");
    w.ffn_up = b.req(p + "ffn_up.weight", {n, f}, Kind::Matrix, "{n_embd, n_ff}");
    w.ffn_down = b.req(p + "ffn_down.weight", {f, n}, Kind::Matrix, "{n_ff, n_embd}");
    w.post_ffw_norm = b.req(p + "post_ffw_norm.weight", {n}, Kind::Vector, "{n_embd}");
    w.layer_output_scale = b.opt(p + "layer_output_scale.weight", {1}, Kind::Vector, "{1}");
    if (!L.is_moe) return;
    const uint64_t E = c.n_expert, F = c.n_ff_expert;
    w.ffn_gate_inp = b.req(p + "ffn_gate_inp.weight", {n, E}, Kind::Matrix, "{n_embd, n_expert}");
    w.ffn_gate_inp_scale = b.req(p + "ffn_gate_inp.scale", {n}, Kind::Vector, "{n_embd}");
    w.pre_ffw_norm_2 = b.req(p + "pre_ffw_norm_2.weight", {n}, Kind::Vector, "{n_embd}");
    w.post_ffw_norm_1 = b.req(p + "post_ffw_norm_1.weight", {n}, Kind::Vector, "{n_embd}");
    w.post_ffw_norm_2 = b.req(p + "post_ffw_norm_2.weight", {n}, Kind::Vector, "{n_embd}");
    w.ffn_gate_up_exps = b.opt(p + "ffn_gate_up_exps.weight", {n, 2 * F, E}, Kind::Matrix,
                               "{n_embd, 2 * n_ff_expert, n_expert}");
    if (w.ffn_gate_up_exps == nullptr) {
        const std::string why = "{n_embd, n_ff_expert, n_expert} (or a fused ffn_gate_up_exps)";
        w.ffn_gate_exps = b.req(p + "ffn_gate_exps.weight", {n, F, E}, Kind::Matrix, why);
        w.ffn_up_exps = b.req(p + "ffn_up_exps.weight", {n, F, E}, Kind::Matrix, why);
    }
    w.ffn_down_exps = b.req(p + "ffn_down_exps.weight", {F, n, E}, Kind::Matrix,
                            "{n_ff_expert, n_embd, n_expert}");
    w.ffn_down_exps_scale = b.opt(p + "ffn_down_exps.scale", {E}, Kind::Vector, "{n_expert}");
}

void bind_ple(const Binder& b, const std::string& p, const Gemma4Config& c, Gemma4LayerWeights& w) {
    const uint64_t n = c.n_embd, P = c.n_embd_per_layer;
    w.inp_gate = b.req(p + "inp_gate.weight", {n, P}, Kind::Matrix, "{n_embd, n_embd_per_layer}");
    w.proj = b.req(p + "proj.weight", {P, n}, Kind::Matrix, "{n_embd_per_layer, n_embd}");
    w.post_norm = b.req(p + "post_norm.weight", {n}, Kind::Vector, "{n_embd}");
}

}  // namespace

Gemma4WeightsView Gemma4WeightsView::bind(const GgufFile& file, const Gemma4Config& c) {
    const Binder b(file);
    const uint64_t n = c.n_embd, V = c.n_vocab;
    Gemma4WeightsView v;
    v.token_embd = b.req("token_embd.weight", {n, V}, Kind::Matrix, "{n_embd, n_vocab}");
    v.output = b.opt("output.weight", {n, V}, Kind::Matrix, "{n_embd, n_vocab}");
    v.output_norm = b.req("output_norm.weight", {n}, Kind::Vector, "{n_embd}");
    v.rope_freqs = b.req("rope_freqs.weight", {c.head_dim_full / 2}, Kind::Vector,
                         "{key_length / 2} (proportional-RoPE frequency factors)");
    if (c.has_ple()) {
        const uint64_t P = c.n_embd_per_layer, PL = P * c.n_layer;
        v.per_layer_token_embd = b.req("per_layer_token_embd.weight", {PL, V}, Kind::Matrix,
                                       "{n_embd_per_layer * block_count, n_vocab}");
        v.per_layer_model_proj = b.req("per_layer_model_proj.weight", {n, PL}, Kind::Matrix,
                                       "{n_embd, n_embd_per_layer * block_count}");
        v.per_layer_proj_norm =
            b.req("per_layer_proj_norm.weight", {P}, Kind::Vector, "{n_embd_per_layer}");
    }
    v.layers.resize(c.n_layer);
    for (uint32_t l = 0; l < c.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const Gemma4LayerConfig& L = c.layers[l];
        bind_attention(b, p, c.n_embd, L, l < c.n_kv_start, v.layers[l]);
        bind_ffn(b, p, c, L, v.layers[l]);
        if (c.has_ple()) bind_ple(b, p, c, v.layers[l]);
    }
    return v;
}

}  // namespace vkllm
