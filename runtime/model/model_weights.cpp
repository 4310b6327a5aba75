// Weight upload: one Arena allocation per tensor (matrices split by rows into binding-sized
// parts), filled from the mapped GGUF through vk::Transfer.
#include "runtime/model/model_weights.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

#include "loader/align.h"
#include "quant/device_layout.h"
#include "runtime/ops/weight_upload.h"

namespace vkllm {
namespace {

// Every tensor of the view, in upload order.
void for_each_tensor(const Gemma4WeightsView& v, const std::function<void(const TensorInfo*)>& f) {
    for (const TensorInfo* t :
         {v.token_embd, v.output, v.output_norm, v.rope_freqs, v.per_layer_token_embd,
          v.per_layer_model_proj, v.per_layer_proj_norm}) {
        f(t);
    }
    for (const Gemma4LayerWeights& l : v.layers) {
        for (const TensorInfo* t : {l.attn_norm,
                                    l.attn_q,
                                    l.attn_k,
                                    l.attn_v,
                                    l.attn_output,
                                    l.attn_q_norm,
                                    l.attn_k_norm,
                                    l.post_attention_norm,
                                    l.ffn_norm,
                                    l.ffn_gate,
                                    l.ffn_up,
                                    l.ffn_down,
                                    l.post_ffw_norm,
                                    l.ffn_gate_inp,
                                    l.ffn_gate_inp_scale,
                                    l.pre_ffw_norm_2,
                                    l.post_ffw_norm_1,
                                    l.post_ffw_norm_2,
                                    l.ffn_gate_up_exps,
                                    l.ffn_gate_exps,
                                    l.ffn_up_exps,
                                    l.ffn_down_exps,
                                    l.ffn_down_exps_scale,
                                    l.inp_gate,
                                    l.proj,
                                    l.post_norm}) {
            f(t);
        }
    }
}

class Uploader {
  public:
    Uploader(vk::Context& ctx, vk::Arena& arena, const GgufFile& file, uint64_t total,
             const std::function<void(uint64_t, uint64_t)>& on_upload)
        : ctx_(ctx), arena_(arena), file_(file), total_(total), on_upload_(on_upload) {}

    DeviceMatrix matrix(const TensorInfo* t) {
        DeviceMatrix m;
        if (t == nullptr) return m;
        m.type = t->type;
        m.K = static_cast<uint32_t>(t->ne[0]);
        const uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
        m.rows = static_cast<uint32_t>(rows);
        const std::span<const std::byte> bytes = file_.data(*t);
        m.data = arena_.allocate_rows(row_bytes(t->type, t->ne[0]), rows);
        ops::upload_weight(ctx_.transfer(), m.data, t->type, bytes);
        advance(bytes.size());
        return m;
    }

    // ffn_gate and ffn_up in one allocation, gate rows first, when a binding holds both and the
    // halves are whole bindings and whole layout groups of their own: the gated mat-vec
    // (ops::record_matvec_glu) reads the pair, everything else the two halves as before.
    // Returns false (nothing uploaded) when they cannot share.
    bool gate_up(const TensorInfo* g, const TensorInfo* u, DeviceLayerWeights& d) {
        if (g == nullptr || u == nullptr || g->type != u->type || g->ne[0] != u->ne[0] ||
            g->ne[1] != u->ne[1] || g->ne[2] * g->ne[3] != 1 || u->ne[2] * u->ne[3] != 1) {
            return false;
        }
        const uint64_t rb = row_bytes(g->type, g->ne[0]), F = g->ne[1], half = F * rb;
        const vk::EffectiveLimits& lim = ctx_.device().limits();
        const uint64_t blocks = half / traits_of(g->type).block_bytes;
        if (2 * half > lim.max_binding_bytes ||
            half % std::max<uint64_t>(1, lim.binding_alignment) != 0 ||
            (quant::has_grouped_layout(g->type) && blocks % quant::k_layout_group_blocks != 0)) {
            return false;
        }
        DeviceMatrix& both = d.ffn_gate_up;
        both.type = g->type;
        both.K = static_cast<uint32_t>(g->ne[0]);
        both.rows = static_cast<uint32_t>(2 * F);
        both.data = arena_.allocate_rows(rb, 2 * F);
        const vk::BufferSpan& part = both.data.parts.at(0);
        for (int i = 0; i < 2; ++i) {
            const TensorInfo* t = i == 0 ? g : u;
            DeviceMatrix& m = i == 0 ? d.ffn_gate : d.ffn_up;
            m.type = t->type;
            m.K = both.K;
            m.rows = static_cast<uint32_t>(F);
            m.data = {{part.sub(i * half, half)}, rb, F, F};
            const std::span<const std::byte> bytes = file_.data(*t);
            ops::upload_weight_part(ctx_.transfer(), m.data.parts[0], t->type, bytes);
            advance(bytes.size());
        }
        return true;
    }

    vk::BufferSpan vector(const TensorInfo* t) {
        if (t == nullptr) return {};
        const std::span<const std::byte> bytes = file_.data(*t);
        const vk::BufferSpan s = arena_.allocate(bytes.size());
        ctx_.transfer().upload(s, bytes);
        advance(bytes.size());
        return s;
    }

  private:
    void advance(uint64_t bytes) {
        done_ += bytes;
        if (on_upload_) on_upload_(done_, total_);
    }

    vk::Context& ctx_;
    vk::Arena& arena_;
    const GgufFile& file_;
    uint64_t total_ = 0, done_ = 0;
    const std::function<void(uint64_t, uint64_t)>& on_upload_;
};

float scalar(const GgufFile& file, const TensorInfo* t) {
    if (t == nullptr) return 1.0f;
    float v = 1.0f;
    std::memcpy(&v, file.data(*t).data(), sizeof v);
    return v;
}

}  // namespace

uint64_t weights_bytes(const Gemma4WeightsView& view, uint64_t alignment) {
    uint64_t sum = 0;
    for_each_tensor(view, [&](const TensorInfo* t) {
        if (t != nullptr) sum += align_up(t->size_bytes, alignment);
    });
    return sum;
}

uint64_t weight_tensor_count(const Gemma4WeightsView& view) {
    uint64_t n = 0;
    for_each_tensor(view, [&](const TensorInfo* t) { n += t != nullptr ? 1 : 0; });
    return n;
}

DeviceWeights upload_weights(vk::Context& ctx, vk::Arena& arena, const GgufFile& file,
                             const Gemma4Config& cfg, const Gemma4WeightsView& v,
                             const std::function<void(uint64_t, uint64_t)>& on_upload,
                             bool experts) {
    const auto is_expert = [&](const TensorInfo* t) {
        for (const Gemma4LayerWeights& l : v.layers) {
            for (const TensorInfo* e : l.expert_tensors()) {
                if (t == e) return true;
            }
        }
        return false;
    };
    uint64_t total = 0;
    for_each_tensor(v, [&](const TensorInfo* t) {
        if (t != nullptr && (experts || !is_expert(t))) total += t->size_bytes;
    });
    Uploader up(ctx, arena, file, total, on_upload);
    DeviceWeights w;
    w.token_embd = up.matrix(v.token_embd);
    w.output = up.matrix(v.output);
    w.output_norm = up.vector(v.output_norm);
    w.rope_freqs = up.vector(v.rope_freqs);
    if (cfg.has_ple()) {
        w.per_layer_token_embd = up.matrix(v.per_layer_token_embd);
        w.per_layer_model_proj = up.matrix(v.per_layer_model_proj);
        w.per_layer_proj_norm = up.vector(v.per_layer_proj_norm);
    }
    w.layers.resize(cfg.n_layer);
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        const Gemma4LayerWeights& s = v.layers[l];
        DeviceLayerWeights& d = w.layers[l];
        d.attn_norm = up.vector(s.attn_norm);
        d.attn_q = up.matrix(s.attn_q);
        d.attn_k = up.matrix(s.attn_k);
        d.attn_v = up.matrix(s.attn_v);
        d.attn_output = up.matrix(s.attn_output);
        d.attn_q_norm = up.vector(s.attn_q_norm);
        d.attn_k_norm = up.vector(s.attn_k_norm);
        d.post_attention_norm = up.vector(s.post_attention_norm);
        d.ffn_norm = up.vector(s.ffn_norm);
        if (!up.gate_up(s.ffn_gate, s.ffn_up, d)) {
            d.ffn_gate = up.matrix(s.ffn_gate);
            d.ffn_up = up.matrix(s.ffn_up);
        }
        d.ffn_down = up.matrix(s.ffn_down);
        d.post_ffw_norm = up.vector(s.post_ffw_norm);
        d.output_scale = scalar(file, s.layer_output_scale);
        d.ffn_gate_inp = up.matrix(s.ffn_gate_inp);
        d.ffn_gate_inp_scale = up.vector(s.ffn_gate_inp_scale);
        d.pre_ffw_norm_2 = up.vector(s.pre_ffw_norm_2);
        d.post_ffw_norm_1 = up.vector(s.post_ffw_norm_1);
        d.post_ffw_norm_2 = up.vector(s.post_ffw_norm_2);
        if (experts) {
            d.ffn_gate_up_exps = up.matrix(s.ffn_gate_up_exps);
            d.ffn_gate_exps = up.matrix(s.ffn_gate_exps);
            d.ffn_up_exps = up.matrix(s.ffn_up_exps);
            d.ffn_down_exps = up.matrix(s.ffn_down_exps);
        }
        d.ffn_down_exps_scale = up.vector(s.ffn_down_exps_scale);
        d.inp_gate = up.matrix(s.inp_gate);
        d.proj = up.matrix(s.proj);
        d.post_norm = up.vector(s.post_norm);
    }
    return w;
}

}  // namespace vkllm
