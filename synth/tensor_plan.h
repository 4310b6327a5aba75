#pragma once
// The tensor list of a synthetic Gemma 4 file (gemma4-model.md §2.1-2.3): names, shapes, how the
// values are drawn, and the storage type, in the order they are written.
//
// Order: llama.cpp's quantizer order (quant/tensor_order.h: non-layer tensors by name, then
// blk.0, blk.1, ... each by name), which is also the order its Q4_K_M rules count attn_v tensors
// in (quant/quant_mix.h).
//
// Initialisation, chosen so a random model is neither chaotic nor degenerate (and close to what
// the tiny fixtures hold): matrices N(0, 1/fan_in) with fan_in = ne[0]; pre-norms N(1, 0.2),
// post-norms N(1, 0.1); q/k norms around D^-1/4 (their product replaces the 1/sqrt(D) attention
// scale that Gemma 4 does not apply); output_norm N(3, 0.6), which puts the logits' spread near 3
// (N(5, 1), as in the fixtures, makes the tied head echo the input token with entropy ~0.05);
// layer_output_scale U(0.8, 1.2); router N(0, 2^2) (logit spread ~2 over the experts); per-expert
// output scale U(0.5, 1.5); PLE table N(0, 1/P) so sqrt(P)·row has unit RMS like the projection.
//
// Layout (TensorLayout): released files fuse the expert gate/up matrices and tie the LM head to
// token_embd; §2 also allows separate ffn_gate_exps/ffn_up_exps and an `output` head, which the
// runtime must handle too. Split expert tensors take their rows from the fused tensor's value
// stream (RowSource), so a split file and a fused file of one seed hold the same model and must
// give the same logits. An untied head has its own stream: it differs from token_embd.

#include <cstdint>
#include <string>
#include <vector>

#include "loader/ggml_type.h"
#include "quant/quant_mix.h"
#include "synth/gemma4_shape.h"

namespace vkllm::synth {

enum class InitKind {
    Normal,     // a = mean, b = standard deviation
    Uniform,    // a = low, b = high
    RopeFreqs,  // §2.2: 1.0 for the first a entries, 1e30 after
};

struct WeightInit {
    InitKind kind = InitKind::Normal;
    float a = 0.0f;
    float b = 0.0f;
};

// Which value stream row r of a tensor is drawn from (weight_gen.h): by default row r of the
// tensor's own stream; otherwise row (r / block_rows) * block_stride + offset + r % block_rows of
// `tensor`'s stream (a split expert tensor reading its half of each expert's fused rows).
struct RowSource {
    std::string tensor;  // empty: the tensor's own name
    uint64_t block_rows = 0;
    uint64_t block_stride = 0;
    uint64_t offset = 0;

    uint64_t row(uint64_t r) const {
        if (tensor.empty()) return r;
        return r / block_rows * block_stride + offset + r % block_rows;
    }
};

struct TensorLayout {
    bool split_expert_gate_up = false;  // ffn_gate_exps + ffn_up_exps, not ffn_gate_up_exps
    bool untied_head = false;           // an `output` LM head, not the tied token_embd
};

struct PlannedTensor {
    std::string name;
    std::vector<uint64_t> ne;  // GGUF order
    WeightInit init;
    // Before assign_types(): the converter's type (F32 for vectors, F16 for matrices, or F32 for
    // everything when `all_f32`). After: the stored type.
    GgmlType type = GgmlType::F32;
    bool is_vector = false;  // 1-D: never quantized
    RowSource source;

    uint64_t n_elements() const;
    uint64_t n_rows() const { return n_elements() / ne[0]; }
};

// Every tensor the shape needs in `layout`, in file order (see above).
std::vector<PlannedTensor> plan_tensors(const Gemma4Shape& shape, const TensorLayout& layout,
                                        bool all_f32);

// Sets `type` on every tensor of `plan` (which must be in file order, from plan_tensors()) by
// llama.cpp's type rules for `mix`. Throws std::invalid_argument if a row length fits no type
// (the shape validation prevents it).
void assign_types(quant::QuantMix mix, const Gemma4Shape& shape, std::vector<PlannedTensor>& plan);

}  // namespace vkllm::synth
