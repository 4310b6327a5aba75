#pragma once
// The Gemma 4 weights in device memory (docs/design/forward.md): every tensor the forward pass
// reads, uploaded from the mapped GGUF. Matrices are row-split TensorSpans (a tensor may exceed
// one binding); F32 vectors (norms, scales, rope_freqs) are single BufferSpans.

#include <cstdint>
#include <functional>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"
#include "runtime/ops/matvec.h"
#include "runtime/vk/arena.h"
#include "runtime/vk/context.h"

namespace vkllm {

// A ggml matrix (or expert stack) on the device.
struct DeviceMatrix {
    vk::TensorSpans data;
    GgmlType type = GgmlType::F32;
    uint32_t K = 0;     // ne0
    uint32_t rows = 0;  // ne1 * ne2
    bool present() const { return !data.parts.empty(); }
    ops::WeightView view() const { return {&data, type, K, rows}; }
};

struct DeviceLayerWeights {
    vk::BufferSpan attn_norm, attn_q_norm, attn_k_norm, post_attention_norm;
    DeviceMatrix attn_q, attn_k, attn_v, attn_output;
    vk::BufferSpan ffn_norm, post_ffw_norm;
    DeviceMatrix ffn_gate, ffn_up, ffn_down;
    // ffn_gate's rows then ffn_up's in one part, when the loader could place them so; ffn_gate
    // and ffn_up are then views of its halves. Absent otherwise.
    DeviceMatrix ffn_gate_up;
    float output_scale = 1.0f;  // layer_output_scale[0] (read on the host)
    // MoE
    vk::BufferSpan ffn_gate_inp_scale, pre_ffw_norm_2, post_ffw_norm_1, post_ffw_norm_2;
    vk::BufferSpan ffn_down_exps_scale;  // size 0 when absent
    DeviceMatrix ffn_gate_inp, ffn_gate_up_exps, ffn_gate_exps, ffn_up_exps, ffn_down_exps;
    // PLE
    DeviceMatrix inp_gate, proj;
    vk::BufferSpan post_norm;
};

struct DeviceWeights {
    DeviceMatrix token_embd, output;  // output absent when tied
    vk::BufferSpan output_norm, rope_freqs;
    DeviceMatrix per_layer_token_embd, per_layer_model_proj;
    vk::BufferSpan per_layer_proj_norm;
    std::vector<DeviceLayerWeights> layers;

    const DeviceMatrix& lm_head() const { return output.present() ? output : token_embd; }
};

// Device bytes the weights take (each tensor rounded up to the binding alignment).
uint64_t weights_bytes(const Gemma4WeightsView& view, uint64_t alignment);
// Tensors the loader uploads (each is one allocation, or one per part when split).
uint64_t weight_tensor_count(const Gemma4WeightsView& view);

// Allocates from `arena` and uploads every tensor of `view`; calls `on_upload(done, total)` with
// the bytes uploaded so far after each tensor, when set. With `experts` false the MoE expert
// tensors are left out (absent matrices: an expert cache takes their place, expert_cache.h).
DeviceWeights upload_weights(vk::Context& ctx, vk::Arena& arena, const GgufFile& file,
                             const Gemma4Config& cfg, const Gemma4WeightsView& view,
                             const std::function<void(uint64_t, uint64_t)>& on_upload,
                             bool experts = true);

}  // namespace vkllm
