#pragma once
// The hyperparameters of a synthetic Gemma 4 target (gemma4-model.md §1.1, §1.5) and the named
// presets: three tiny models with the fixtures' shapes (tests/fixtures/models) and the five
// released sizes (§1.5 (c), external config values).
//
// A Gemma4Shape is plain data. Layer types follow one rule for every preset: layer l is
// full-attention iff l % full_period == full_period - 1 or l is the last layer (HF forces the last
// layer to be full), which reproduces both the fixtures' patterns and the released ones.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vkllm::synth {

struct Gemma4Shape {
    std::string name;             // preset name, written to general.name
    uint32_t n_layer = 0;         // block_count
    uint32_t n_embd = 0;          // embedding_length
    uint32_t n_ctx = 0;           // context_length
    uint32_t n_vocab = 0;         // rows of token_embd (= tokenizer size)
    uint32_t n_head = 0;          // attention.head_count (every layer)
    uint32_t n_kv_head_swa = 0;   // attention.head_count_kv of sliding layers
    uint32_t n_kv_head_full = 0;  // ... of full layers
    uint32_t head_dim_swa = 0;    // key_length_swa
    uint32_t head_dim_full = 0;   // key_length
    uint32_t n_ff = 0;            // feed_forward_length of KV-owning layers
    uint32_t n_ff_shared_kv = 0;  // of shared-KV layers (double-wide MLP); 0 = n_ff
    uint32_t full_period = 0;     // see the file comment
    bool full_has_v = false;      // false: attention_k_eq_v (full layers have no attn_v)
    uint32_t n_swa = 0;           // sliding_window
    uint32_t n_shared_kv_layers = 0;
    uint32_t n_embd_per_layer = 0;  // PLE width P (0 = none)
    uint32_t n_expert = 0;          // 0 = dense
    uint32_t n_expert_used = 0;
    uint32_t n_ff_expert = 0;
    float rope_base_swa = 1e4f;
    float rope_base_full = 1e6f;
    float partial_rotary_full = 0.25f;  // fraction of D_full that rotates (rope_freqs, §2.2)
    float rms_eps = 1e-6f;
    float final_softcap = 30.0f;
    // gemma4-assistant (MTP drafter, gemma4-model.md §1.3, §2.4): the target's width B, which
    // the drafter's projections take in and give back; 0 for a target model. An assistant has
    // no K/V projections, MoE or PLE, and no softcap.
    uint32_t n_embd_out = 0;

    bool is_sliding(uint32_t l) const {
        return l + 1 != n_layer && l % full_period != full_period - 1;
    }
    uint32_t n_kv_start() const { return n_layer - n_shared_kv_layers; }
    uint32_t head_dim(uint32_t l) const { return is_sliding(l) ? head_dim_swa : head_dim_full; }
    uint32_t n_kv_head(uint32_t l) const { return is_sliding(l) ? n_kv_head_swa : n_kv_head_full; }
    uint32_t ff(uint32_t l) const {
        return l >= n_kv_start() && n_ff_shared_kv != 0 ? n_ff_shared_kv : n_ff;
    }
    bool has_v(uint32_t l) const { return l < n_kv_start() && (is_sliding(l) || full_has_v); }
    bool is_moe() const { return n_expert > 0; }
    bool is_assistant() const { return n_embd_out != 0; }
};

// "tiny-dense", "tiny-moe", "tiny-ple", "26b-a4b", "31b", "12b", "e4b", "e2b".
std::vector<std::string_view> preset_names();

// Throws std::invalid_argument listing the valid names for an unknown one.
Gemma4Shape preset_shape(std::string_view name);

// Changes the layer count, keeping the layer-type rule and, for shared-KV models, about the same
// fraction of shared layers with a KV split the runtime accepts (the last KV-owning layer full,
// the one before it sliding, §3.4 step 4); falls back to no sharing when no such split exists.
void set_layer_count(Gemma4Shape& shape, uint32_t n_layer);

// Throws std::invalid_argument naming the first inconsistent field (zero sizes, heads not a
// multiple of KV heads, odd head dims, row lengths that no GGUF type can hold, ...).
void validate_shape(const Gemma4Shape& shape);

}  // namespace vkllm::synth
