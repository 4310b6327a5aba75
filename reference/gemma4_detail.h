#pragma once
// Internals of the Gemma 4 CPU reference forward (gemma4_forward.h), shared by its .cpp files.
// Activations are fp32 ([width, n_tokens], token-major columns, as ggml lays them out); every dot
// product, norm and softmax accumulates in fp64 (the reference ops in reference/*.h).

#include <cstdint>
#include <span>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"

namespace vkllm::reference::gemma4_detail {

using Act = std::vector<float>;  // [width, n_tokens]

// What every block reads: the file's tensor bytes, the config and the tensor map.
struct Model {
    const GgufFile& file;
    const Gemma4Config& cfg;
    const Gemma4WeightsView& w;
};

// One KV-owning layer's cache for the whole sequence: normalised, RoPE'd K and normalised V.
struct LayerKv {
    Act k;  // [D, Hkv, T]
    Act v;  // [D, Hkv, T]
};

Act to_f32(const std::vector<double>& x);
// A whole F32 tensor (vectors: norms, scales, rope_freqs).
std::span<const float> f32_data(const GgufFile& file, const TensorInfo& t);
// y = W x per token, W {in, out}: [out, T].
Act linear(const Model& m, const TensorInfo& w, std::span<const float> x, size_t n_tokens);
// RMS over slices of n, weight may be null (RMS_1); + residual if non-empty.
Act rms(const Model& m, std::span<const float> x, size_t n, const TensorInfo* weight,
        std::span<const float> residual = {}, double scale = 1.0);

// §3.4: h + RMS_{post_attention_norm}(attn_output · attention(...)). Fills kv[l] for KV owners.
Act attention_block(const Model& m, uint32_t l, const Act& h, std::span<const int32_t> pos,
                    std::vector<LayerKv>& kv);
// §3.5: a + RMS_{post_ffw_norm}(MLP(RMS_{ffn_norm}(a))).
Act dense_ffn_block(const Model& m, uint32_t l, const Act& a, size_t n_tokens);
// §3.6: shared MLP + routed experts.
Act moe_ffn_block(const Model& m, uint32_t l, const Act& a, size_t n_tokens);
// §3.2: π for every token and layer, laid out [P, L, T].
Act per_layer_inputs(const Model& m, std::span<const int32_t> tokens, const Act& embd);
// §3.7: a + RMS_{post_norm}(proj · (gelu(inp_gate · a) ⊙ π_l)); pi: [P, L, T].
Act ple_block(const Model& m, uint32_t l, const Act& a, const Act& pi, size_t n_tokens);

}  // namespace vkllm::reference::gemma4_detail
