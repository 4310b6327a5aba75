#pragma once
// `quantize_gemma4_file`: what llama.cpp's llama-quantize does to a Gemma 4 GGUF (no imatrix,
// default options), reimplemented on our loader, writer, type rules and row quantizers.
// For an f16 converter file the output is byte for byte llama-quantize's (the tiny-dense
// fixtures are built this way and checked against llama.cpp's sha256 at build time).
//
// Output layout, as llama-quantize writes it: every metadata key in source order except
// general.quantization_version (2) and general.file_type (the mix's llama_ftype), which go last;
// split.* keys are dropped; tensors in llama.cpp's order (tensor_order_less: by layer, then
// name) with each tensor's n_dims as ggml counts them (trailing 1s dropped); types from
// choose_types (quant_mix.h); tensors that keep their type are copied unchanged, the others are
// converted to f32 and quantized row by row.
//
// Streaming: the source is memory-mapped and each tensor is converted in row batches of a few
// MiB, so memory stays small for any model. The output is written to DST.tmp and renamed to DST
// only when complete; on any error nothing is left at either path.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string_view>

#include "loader/ggml_type.h"
#include "quant/quant_mix.h"
#include "quant/type_totals.h"

namespace vkllm::quant {

struct QuantizeSpec {
    QuantMix mix = QuantMix::Q8_0;  // a quantized mix (is_quantized_mix)
    unsigned n_threads = 0;         // 0: std::thread::hardware_concurrency(); at most 256
};

struct QuantizeSummary {
    size_t n_tensors = 0;
    size_t n_converted = 0;  // tensors whose type changed
    uint64_t source_bytes = 0;
    uint64_t file_bytes = 0;
    double seconds = 0.0;
    std::map<GgmlType, TypeTotals> by_type;  // output types
};

// Called before each tensor is written: (name, source type, output type, index, count).
using QuantizeProgress = std::function<void(std::string_view, GgmlType, GgmlType, size_t, size_t)>;

// Throws ModelFileError for a source that is not a valid GGUF, std::invalid_argument for one
// that is not a single-file Gemma 4 model with f32/f16/bf16 weights (naming the first quantized
// tensor) or for a bad spec, std::runtime_error for I/O (naming the path and the reason).
QuantizeSummary quantize_gemma4_file(const std::filesystem::path& src,
                                     const std::filesystem::path& dst, const QuantizeSpec& spec,
                                     const QuantizeProgress& progress = {});

}  // namespace vkllm::quant
