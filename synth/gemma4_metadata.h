#pragma once
// The general.* and gemma4.* metadata of a synthetic model, typed the way the fork's converter
// writes them (gemma4-model.md §1.1, §1.4): per-layer keys become INT32/BOOL arrays only where the
// values differ between layers, rope.dimension_count(_swa) equal the head dims.

#include <cstdint>
#include <string>

#include "loader/gguf_writer.h"
#include "quant/quant_mix.h"
#include "synth/gemma4_shape.h"

namespace vkllm::synth {

// general.architecture, general.type, general.name and general.description.
void add_general_metadata(GgufWriter& writer, const Gemma4Shape& shape,
                          const std::string& description);

// The description of a random-weight model: preset, mix and seed, which reproduce it.
std::string synthetic_description(const Gemma4Shape& shape, quant::QuantMix mix, uint64_t seed);

// The description of a model trained by tools/train/ (its config name).
std::string trained_description(const Gemma4Shape& shape);

// Every gemma4.* key of §1.1 the shape implies.
void add_gemma4_metadata(GgufWriter& writer, const Gemma4Shape& shape);

// general.quantization_version and general.file_type, which llama.cpp's quantizer appends last.
void add_quantization_metadata(GgufWriter& writer, quant::QuantMix mix);

}  // namespace vkllm::synth
