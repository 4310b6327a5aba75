#include "synth/gemma4_metadata.h"

#include <string>
#include <vector>

namespace vkllm::synth {
namespace {

// A per-layer u32 key: a scalar when every layer agrees, else an INT32 array (as the converter).
template <typename F>
void add_per_layer(GgufWriter& w, const std::string& key, const Gemma4Shape& s, F value_of) {
    std::vector<int32_t> v(s.n_layer);
    bool same = true;
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        v[l] = static_cast<int32_t>(value_of(l));
        same = same && v[l] == v[0];
    }
    if (same) {
        w.add_u32(key, static_cast<uint32_t>(v[0]));
    } else {
        w.add_array(key, GgufWriteArray::of(std::span<const int32_t>(v)));
    }
}

}  // namespace

std::string synthetic_description(const Gemma4Shape& s, quant::QuantMix mix, uint64_t seed) {
    return "synthetic Gemma 4 with random weights (vkllm synth, preset " + s.name + ", " +
           std::string(quant::quant_mix_name(mix)) + ", seed " + std::to_string(seed) + ")";
}

std::string trained_description(const Gemma4Shape& s) {
    return "trained with vkllm tools/train (" + s.name + ")";
}

void add_general_metadata(GgufWriter& w, const Gemma4Shape& s, const std::string& description) {
    w.add_string("general.architecture", s.is_assistant() ? "gemma4-assistant" : "gemma4");
    w.add_string("general.type", "model");
    w.add_string("general.name", s.name);
    w.add_string("general.description", description);
}

void add_gemma4_metadata(GgufWriter& w, const Gemma4Shape& s) {
    const std::string a = s.is_assistant() ? "gemma4-assistant." : "gemma4.";
    w.add_u32(a + "context_length", s.n_ctx);
    w.add_u32(a + "embedding_length", s.n_embd);
    if (s.is_assistant()) {
        // §1.3: the backbone width, and every layer is an MTP layer.
        w.add_u32(a + "embedding_length_out", s.n_embd_out);
        w.add_u32(a + "nextn_predict_layers", s.n_layer);
    }
    w.add_u32(a + "block_count", s.n_layer);
    add_per_layer(w, a + "feed_forward_length", s, [&](uint32_t l) { return s.ff(l); });
    w.add_u32(a + "attention.head_count", s.n_head);
    add_per_layer(w, a + "attention.head_count_kv", s, [&](uint32_t l) { return s.n_kv_head(l); });
    w.add_u32(a + "attention.key_length", s.head_dim_full);
    w.add_u32(a + "attention.value_length", s.head_dim_full);
    w.add_u32(a + "attention.key_length_swa", s.head_dim_swa);
    w.add_u32(a + "attention.value_length_swa", s.head_dim_swa);
    w.add_u32(a + "attention.sliding_window", s.n_swa);
    std::vector<bool> pattern(s.n_layer);
    for (uint32_t l = 0; l < s.n_layer; ++l) pattern[l] = s.is_sliding(l);
    w.add_array(a + "attention.sliding_window_pattern", GgufWriteArray::of_bools(pattern));
    w.add_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
    if (s.n_shared_kv_layers != 0)
        w.add_u32(a + "attention.shared_kv_layers", s.n_shared_kv_layers);
    w.add_u32(a + "embedding_length_per_layer_input", s.n_embd_per_layer);
    w.add_f32(a + "rope.freq_base", s.rope_base_full);
    w.add_f32(a + "rope.freq_base_swa", s.rope_base_swa);
    w.add_u32(a + "rope.dimension_count", s.head_dim_full);
    w.add_u32(a + "rope.dimension_count_swa", s.head_dim_swa);
    if (s.is_assistant()) return;  // the drafter's head has no softcap (§4.3 step 5)
    w.add_f32(a + "final_logit_softcapping", s.final_softcap);
    if (!s.is_moe()) return;
    w.add_u32(a + "expert_count", s.n_expert);
    w.add_u32(a + "expert_used_count", s.n_expert_used);
    w.add_u32(a + "expert_feed_forward_length", s.n_ff_expert);
}

void add_quantization_metadata(GgufWriter& w, quant::QuantMix mix) {
    w.add_u32("general.quantization_version", 2);
    w.add_u32("general.file_type", quant::file_type_of(mix));
}

}  // namespace vkllm::synth
