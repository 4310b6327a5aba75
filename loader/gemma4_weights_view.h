#pragma once
// Name -> tensor map of a Gemma 4 target GGUF (gemma4-model.md §2.1-2.3), validated against a
// Gemma4Config: every tensor the config needs exists with exactly the shape it implies, vectors
// (norms, scales, rope_freqs) are F32 and matrices have a type the CPU reference can decode.
//
// Borrows the GgufFile: the pointers are into its tensor table, so the file must outlive the view.
// Optional tensors that are absent are nullptr.

#include <array>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gguf_file.h"

namespace vkllm {

struct Gemma4LayerWeights {
    // Attention (§3.4). attn_k / attn_k_norm are null on shared-KV layers, attn_v when V = raw K.
    const TensorInfo* attn_norm = nullptr;            // {n}
    const TensorInfo* attn_q = nullptr;               // {n, D*Hq}
    const TensorInfo* attn_k = nullptr;               // {n, D*Hkv}
    const TensorInfo* attn_v = nullptr;               // {n, D*Hkv}
    const TensorInfo* attn_output = nullptr;          // {D*Hq, n}
    const TensorInfo* attn_q_norm = nullptr;          // {D}
    const TensorInfo* attn_k_norm = nullptr;          // {D}
    const TensorInfo* post_attention_norm = nullptr;  // {n}
    // Dense MLP, or the shared MLP of a MoE layer (§3.5).
    const TensorInfo* ffn_norm = nullptr;            // {n}
    const TensorInfo* ffn_gate = nullptr;            // {n, f}
    const TensorInfo* ffn_up = nullptr;              // {n, f}
    const TensorInfo* ffn_down = nullptr;            // {f, n}
    const TensorInfo* post_ffw_norm = nullptr;       // {n}
    const TensorInfo* layer_output_scale = nullptr;  // {1}, optional
    // MoE (§3.6), all null on dense layers. Either ffn_gate_up_exps or ffn_gate_exps+ffn_up_exps.
    const TensorInfo* ffn_gate_inp = nullptr;         // {n, E}
    const TensorInfo* ffn_gate_inp_scale = nullptr;   // {n}
    const TensorInfo* pre_ffw_norm_2 = nullptr;       // {n}
    const TensorInfo* post_ffw_norm_1 = nullptr;      // {n}
    const TensorInfo* post_ffw_norm_2 = nullptr;      // {n}
    const TensorInfo* ffn_gate_up_exps = nullptr;     // {n, 2F, E}: rows 0..F-1 gate, F..2F-1 up
    const TensorInfo* ffn_gate_exps = nullptr;        // {n, F, E}
    const TensorInfo* ffn_up_exps = nullptr;          // {n, F, E}
    const TensorInfo* ffn_down_exps = nullptr;        // {F, n, E}
    const TensorInfo* ffn_down_exps_scale = nullptr;  // {E}, optional
    // Per-layer embeddings (§3.7), null when P = 0.
    const TensorInfo* inp_gate = nullptr;   // {n, P}
    const TensorInfo* proj = nullptr;       // {P, n}
    const TensorInfo* post_norm = nullptr;  // {n}

    // The expert matrices (gate_up or gate and up, then down), null entries where absent.
    std::array<const TensorInfo*, 4> expert_tensors() const {
        return {ffn_gate_up_exps, ffn_gate_exps, ffn_up_exps, ffn_down_exps};
    }
};

struct Gemma4WeightsView {
    const TensorInfo* token_embd = nullptr;            // {n, V}
    const TensorInfo* output = nullptr;                // {n, V}, optional (untied head)
    const TensorInfo* output_norm = nullptr;           // {n}
    const TensorInfo* rope_freqs = nullptr;            // {D_full/2}, F32
    const TensorInfo* per_layer_token_embd = nullptr;  // {P*L, V}, if P > 0
    const TensorInfo* per_layer_model_proj = nullptr;  // {n, P*L}, if P > 0
    const TensorInfo* per_layer_proj_norm = nullptr;   // {P}, if P > 0
    std::vector<Gemma4LayerWeights> layers;

    // The LM head: `output` if present, else the tied token_embd.
    const TensorInfo& lm_head() const { return output != nullptr ? *output : *token_embd; }

    // Looks up and validates every tensor. Throws ModelFileError naming the tensor and the
    // expected versus found shape or type.
    static Gemma4WeightsView bind(const GgufFile& file, const Gemma4Config& config);
};

}  // namespace vkllm
