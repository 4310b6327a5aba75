#pragma once
// ggml tensor/block type ids as stored in GGUF files (formats.md §1.8) and their block geometry.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vkllm {

enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    TURBO2_0 = 42,
    TURBO3_0 = 43,
    TURBO4_0 = 44,
    TQ3_1S = 45,
    TQ4_1S = 46,
    Q2_0 = 47,
};

struct GgmlTypeTraits {
    std::string_view name;  // ggml_type_name spelling, e.g. "q4_K"
    uint32_t block_elems;   // elements per block
    uint32_t block_bytes;   // bytes per block
    bool dequantizable;     // the CPU reference (and the kernels) can decode it
};

// Traits for a type id read from a file; std::nullopt for ids that are unknown or were removed
// from ggml (4, 5, 31..33, 36..38, >= 48).
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);

// Same, for a known enum value (never nullopt for the enumerators above).
GgmlTypeTraits traits_of(GgmlType type);

// Bytes of one row of `elems` elements; elems must be a multiple of the block size.
inline size_t row_bytes(GgmlType type, size_t elems) {
    const GgmlTypeTraits t = traits_of(type);
    return elems / t.block_elems * t.block_bytes;
}

}  // namespace vkllm
