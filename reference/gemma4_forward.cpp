// Gemma 4 reference forward, top level: embedding (§3.1), per-layer inputs (§3.2), the layer
// loop, and the output head (§3.8). The blocks are in gemma4_layer.cpp and gemma4_moe.cpp.
#include "reference/gemma4_forward.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "reference/activation.h"
#include "reference/gemma4_detail.h"
#include "reference/matvec.h"
#include "reference/norm.h"

namespace vkllm::reference {
namespace gemma4_detail {

Act to_f32(const std::vector<double>& x) {
    Act y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(x[i]);
    return y;
}

std::span<const float> f32_data(const GgufFile& file, const TensorInfo& t) {
    if (t.type != GgmlType::F32)
        throw std::logic_error("gemma4 reference: '" + t.name + "' not f32");
    const std::span<const std::byte> bytes = file.data(t);
    // GGUF data is aligned to general.alignment (>= 8 in practice, checked at parse): the cast is
    // to a float view of properly aligned little-endian f32 values.
    return {reinterpret_cast<const float*>(static_cast<const void*>(bytes.data())),
            static_cast<size_t>(t.n_elements())};
}

Act linear(const Model& m, const TensorInfo& w, std::span<const float> x, size_t n_tokens) {
    const size_t in = w.ne[0], out = w.ne[1];
    if (x.size() != in * n_tokens) throw std::logic_error("gemma4 reference: bad linear input");
    return to_f32(matvec(w.type, m.file.data(w), in, out, x, n_tokens, in).value);
}

Act rms(const Model& m, std::span<const float> x, size_t n, const TensorInfo* weight,
        std::span<const float> residual, double scale) {
    const std::span<const float> wt = weight ? f32_data(m.file, *weight) : std::span<const float>{};
    return to_f32(ref::rms_norm(x, n, double{m.cfg.rms_eps}, wt, scale, residual));
}

Act per_layer_inputs(const Model& m, std::span<const int32_t> tokens, const Act& embd) {
    const Gemma4Config& c = m.cfg;
    const size_t T = tokens.size(), P = c.n_embd_per_layer, PL = P * c.n_layer;
    // z = per_layer_model_proj · e / √n, then RMS over each P-wide slice.
    Act z = linear(m, *m.w.per_layer_model_proj, embd, T);
    const float inv_sqrt_n = 1.0f / std::sqrt(static_cast<float>(c.n_embd));
    for (float& v : z) v *= inv_sqrt_n;
    const Act z_hat = rms(m, z, P, m.w.per_layer_proj_norm);
    // g = per_layer_token_embd[x_t] · √P; π = (ẑ + g) / √2.
    const std::vector<uint32_t> ids(tokens.begin(), tokens.end());
    const TensorInfo& table = *m.w.per_layer_token_embd;
    const Act g = to_f32(get_rows(table.type, m.file.data(table), PL, ids,
                                  double{std::sqrt(static_cast<float>(P))}));
    const float inv_sqrt2 = 1.0f / std::sqrt(2.0f);
    Act pi(PL * T);
    for (size_t i = 0; i < pi.size(); ++i) pi[i] = (z_hat[i] + g[i]) * inv_sqrt2;
    return pi;
}

}  // namespace gemma4_detail

using namespace gemma4_detail;

Gemma4Reference::Gemma4Reference(const GgufFile& file)
    : file_(file),
      cfg_(Gemma4Config::from_gguf(file)),
      weights_(Gemma4WeightsView::bind(file, cfg_)) {}

std::vector<float> Gemma4Reference::forward_hidden(std::span<const int32_t> tokens) const {
    const Model m{file_, cfg_, weights_};
    const size_t T = tokens.size();
    if (T == 0) throw std::invalid_argument("[Gemma4Reference] empty token sequence");
    std::vector<uint32_t> ids(T);
    std::vector<int32_t> pos(T);
    for (size_t t = 0; t < T; ++t) {
        if (tokens[t] < 0 || static_cast<uint32_t>(tokens[t]) >= cfg_.n_vocab) {
            throw std::invalid_argument("[Gemma4Reference] token " + std::to_string(tokens[t]) +
                                        " at position " + std::to_string(t) +
                                        " is outside the vocabulary of " +
                                        std::to_string(cfg_.n_vocab));
        }
        ids[t] = static_cast<uint32_t>(tokens[t]);
        pos[t] = static_cast<int32_t>(t);
    }
    // §3.1: h⁰ = token_embd[x] · √n, the factor rounded to f32.
    const TensorInfo& embd = *weights_.token_embd;
    Act h = to_f32(get_rows(embd.type, file_.data(embd), cfg_.n_embd, ids,
                            double{std::sqrt(static_cast<float>(cfg_.n_embd))}));
    const Act pi = cfg_.has_ple() ? per_layer_inputs(m, tokens, h) : Act{};

    std::vector<LayerKv> kv(cfg_.n_layer);
    for (uint32_t l = 0; l < cfg_.n_layer; ++l) {
        const Gemma4LayerConfig& L = cfg_.layers[l];
        Act a = attention_block(m, l, h, pos, kv);
        a = L.is_moe ? moe_ffn_block(m, l, a, T) : dense_ffn_block(m, l, a, T);
        if (cfg_.has_ple()) a = ple_block(m, l, a, pi, T);
        if (L.has_output_scale) {  // §3.7: scales the whole residual stream
            const float s = f32_data(file_, *weights_.layers[l].layer_output_scale)[0];
            for (float& v : a) v *= s;
        }
        h = std::move(a);
    }
    return rms(m, h, cfg_.n_embd, weights_.output_norm);
}

std::vector<float> Gemma4Reference::forward(std::span<const int32_t> tokens) const {
    const Model m{file_, cfg_, weights_};
    const Act y = forward_hidden(tokens);
    Act logits = linear(m, weights_.lm_head(), y, tokens.size());
    if (cfg_.final_softcap > 0.0f) logits = to_f32(ref::softcap(logits, cfg_.final_softcap));
    const size_t V = cfg_.n_vocab;
    for (size_t t = 0; t < tokens.size(); ++t) {
        for (int32_t id : cfg_.suppress_tokens) {
            logits[t * V + static_cast<size_t>(id)] = -std::numeric_limits<float>::infinity();
        }
    }
    return logits;
}

}  // namespace vkllm::reference
