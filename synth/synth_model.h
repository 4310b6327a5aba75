#pragma once
// `write_synthetic_gemma4`: a complete Gemma 4 target GGUF with random weights, from a named
// shape preset (gemma4_shape.h), a quantization mix (quant/quant_mix.h) and a seed. The output
// passes Gemma4Config::from_gguf and Gemma4WeightsView::bind and follows GGUF conventions (32-byte
// alignment, tight packing, general.file_type / quantization_version).
//
// Streaming: metadata and the tensor table are built first (small); tensor data is generated,
// quantized and written one row batch at a time (tensor_stream.h), so a 20 GB preset needs only
// tens of MB of memory. The same spec and seed give byte-identical files on one build, whatever
// the thread count. See docs/design/synth.md.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quant/quant_mix.h"
#include "quant/type_totals.h"
#include "synth/gemma4_shape.h"
#include "synth/tensor_plan.h"

namespace vkllm::synth {

struct SynthSpec {
    std::string preset = "tiny-dense";
    quant::QuantMix quant = quant::QuantMix::F16;
    uint64_t seed = 1;
    std::optional<uint32_t> n_layer;  // overrides (set_layer_count keeps the layer-type rules)
    std::optional<uint32_t> n_ctx;
    std::optional<uint32_t> n_vocab;  // with vocab_file it must equal the file's token count
    // Copy the tokenizer.* keys of this GGUF (the vocabulary size follows it); empty: generate a
    // minimal byte-level vocabulary (synth_vocab.h).
    std::filesystem::path vocab_file;
    unsigned n_threads = 0;  // 0: std::thread::hardware_concurrency(); at most 256
    // The layouts released files do not use but §2 allows (tensor_plan.h): separate expert
    // gate/up tensors (same values as the fused ones) and an untied `output` head.
    bool split_expert_gate_up = false;
    bool untied_head = false;
    // Trained weights (synth/trained_weights.h): the shape comes from weights_dir/config.json
    // (preset, n_layer and seed are not used), every tensor from its .f32 file, and vocab_file is
    // required: it must hold the n_vocab tokens the model was trained on.
    std::filesystem::path weights_dir;
    // general.description; empty: synthetic_description or trained_description (gemma4_metadata.h)
    std::string description;
};

struct SynthPlan {
    Gemma4Shape shape;
    std::vector<PlannedTensor> tensors;  // file order, final types
};

// The shape and tensor table `spec` produces, without writing anything (opens vocab_file for its
// size). Throws std::invalid_argument for a bad spec, ModelFileError for a bad vocab_file.
SynthPlan plan_synthetic_gemma4(const SynthSpec& spec);

struct SynthSummary {
    size_t n_tensors = 0;
    uint64_t n_params = 0;
    uint64_t tensor_bytes = 0;  // data section without padding
    uint64_t file_bytes = 0;
    double seconds = 0.0;
    std::map<GgmlType, quant::TypeTotals> by_type;
};

// Called before each tensor is generated: (tensor, index in file order, tensor count).
using SynthProgress = std::function<void(const PlannedTensor&, size_t, size_t)>;

// Writes the model to `path`, replacing it. On any failure the partial file is removed and the
// exception propagates (std::invalid_argument for a bad spec, ModelFileError for a bad
// vocab_file, std::runtime_error for I/O).
SynthSummary write_synthetic_gemma4(const SynthSpec& spec, const std::filesystem::path& path,
                                    const SynthProgress& progress = {});

}  // namespace vkllm::synth
