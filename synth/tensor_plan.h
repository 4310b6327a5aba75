#pragma once
// The tensor list of a synthetic Gemma 4 file (gemma4-model.md §2.1-2.3): names, shapes, how the
// values are drawn, and the storage type, in the order they are written.
//
// Order: llama.cpp's quantizer order (non-layer tensors by name, then blk.0, blk.1, ... each by
// name), which is also the order its Q4_K_M rules count attn_v tensors in (quant_mix.h).
//
// Initialisation, chosen so a random model is neither chaotic nor degenerate (and close to what
// the tiny fixtures hold): matrices N(0, 1/fan_in) with fan_in = ne[0]; pre-norms N(1, 0.2),
// post-norms N(1, 0.1); q/k norms around D^-1/4 (their product replaces the 1/sqrt(D) attention
// scale that Gemma 4 does not apply); output_norm N(3, 0.6), which puts the logits' spread near 3
// (N(5, 1), as in the fixtures, makes the tied head echo the input token with entropy ~0.05);
// layer_output_scale U(0.8, 1.2); router N(0, 2^2) (logit spread ~2 over the experts); per-expert
// output scale U(0.5, 1.5); PLE table N(0, 1/P) so sqrt(P)·row has unit RMS like the projection.

#include <cstdint>
#include <string>
#include <vector>

#include "loader/ggml_type.h"
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

struct PlannedTensor {
    std::string name;
    std::vector<uint64_t> ne;  // GGUF order
    WeightInit init;
    // Before assign_types(): the converter's type (F32 for vectors, F16 for matrices, or F32 for
    // everything when `all_f32`). After: the stored type.
    GgmlType type = GgmlType::F32;
    bool is_vector = false;  // 1-D: never quantized

    uint64_t n_elements() const;
    uint64_t n_rows() const { return n_elements() / ne[0]; }
};

// Every tensor the shape needs, in file order (see above).
std::vector<PlannedTensor> plan_tensors(const Gemma4Shape& shape, bool all_f32);

// llama.cpp's tensor order: layer index first (non-layer tensors before blk.0), then name.
bool tensor_order_less(const std::string& a, const std::string& b);

}  // namespace vkllm::synth
