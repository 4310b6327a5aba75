#pragma once
// Gemma 4 target hyperparameters read from GGUF metadata (gemma4-model.md §1), plus the per-layer
// quantities every consumer needs (§1.2): layer type, head geometry, RoPE parameters, KV sharing,
// and which optional tensors the layer has.
//
// Invariant: a Gemma4Config returned by from_gguf() is consistent with itself and with the file's
// tensors (every required tensor exists with the shape and type the config implies; see
// gemma4_weights_view.h). Anything else throws ModelFileError naming the key or tensor.

#include <cstdint>
#include <string>
#include <vector>

#include "loader/gguf_file.h"

namespace vkllm {

// Derived view of one transformer block.
struct Gemma4LayerConfig {
    bool is_sliding = false;       // sliding_window_pattern[l]: SWA layer
    uint32_t head_dim = 0;         // D(l): key_length_swa or key_length
    uint32_t n_heads = 0;          // H_q(l)
    uint32_t n_kv_heads = 0;       // H_kv(l)
    uint32_t n_ff = 0;             // dense / shared-MLP width n_ff(l)
    uint32_t n_rot = 0;            // R(l): dims that take part in RoPE (NEOX pairs (i, i + R/2))
    float rope_base = 0.0f;        // base(l)
    bool rope_uses_freqs = false;  // full layers divide θ by rope_freqs (proportional RoPE)
    uint32_t window = 0;           // n_swa for SWA layers, 0 (unlimited) for full layers
    uint32_t kv_source = 0;  // layer whose K/V this layer attends to (== own index if it owns KV)
    bool has_v = false;      // attn_v present; false: V is the raw K projection (or shared)
    bool is_moe = false;     // ffn_gate_inp present (§3.6)
    bool has_output_scale = false;  // layer_output_scale present (§3.7)

    uint32_t q_dim() const { return head_dim * n_heads; }
    uint32_t kv_dim() const { return head_dim * n_kv_heads; }
};

struct Gemma4Config {
    std::string arch;                 // "gemma4"
    uint32_t n_ctx_train = 0;         // context_length
    uint32_t n_embd = 0;              // embedding_length
    uint32_t n_layer = 0;             // block_count
    uint32_t n_vocab = 0;             // rows of token_embd
    uint32_t head_dim_full = 0;       // key_length (default n_embd / H_q(0))
    uint32_t head_dim_swa = 0;        // key_length_swa (required)
    uint32_t n_rot_full = 0;          // rope.dimension_count (default key_length)
    uint32_t n_rot_swa = 0;           // rope.dimension_count_swa (default n_rot_full)
    float rope_base_full = 10000.0f;  // rope.freq_base
    float rope_base_swa = 10000.0f;   // rope.freq_base_swa
    uint32_t n_swa = 0;               // attention.sliding_window
    float rms_eps = 0.0f;             // attention.layer_norm_rms_epsilon
    uint32_t n_shared_kv_layers = 0;  // attention.shared_kv_layers
    uint32_t n_kv_start = 0;          // n_layer - n_shared_kv_layers: first layer that reuses KV
    uint32_t n_embd_per_layer = 0;    // PLE width P; 0 = no per-layer embeddings
    uint32_t n_expert = 0;            // expert_count
    uint32_t n_expert_used = 0;       // expert_used_count
    uint32_t n_ff_expert = 0;         // expert_feed_forward_length
    float final_softcap = 30.0f;      // final_logit_softcapping; absent = 30, 0 = disabled
    bool tied_output = true;          // no `output` tensor: token_embd is the LM head
    std::vector<int32_t> suppress_tokens;  // tokenizer.ggml.suppress_tokens (logit -inf after cap)
    std::vector<Gemma4LayerConfig> layers;

    bool has_ple() const { return n_embd_per_layer > 0; }
    bool has_moe() const;

    // Reads and validates metadata, derives the per-layer view, and checks every tensor against
    // it. Throws ModelFileError for an unsupported architecture, a missing/invalid key,
    // inconsistent metadata, or a missing/mis-shaped/mis-typed tensor.
    static Gemma4Config from_gguf(const GgufFile& file);
};

}  // namespace vkllm
