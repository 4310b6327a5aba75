#pragma once
// Internal to quant_blocks*.cpp: little-endian field readers and the per-block decoders.
// Each decoder reads one block at `b` and writes block_elems floats to `y`.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "loader/fp16.h"

namespace vkllm::qdetail {

inline uint8_t u8(const std::byte* b, size_t off) {
    return std::to_integer<uint8_t>(b[off]);
}

inline uint16_t u16le(const std::byte* b, size_t off) {
    return static_cast<uint16_t>(u8(b, off) | (u8(b, off + 1) << 8));
}

inline uint32_t u32le(const std::byte* b, size_t off) {
    return static_cast<uint32_t>(u16le(b, off)) | (static_cast<uint32_t>(u16le(b, off + 2)) << 16);
}

inline float f16le(const std::byte* b, size_t off) {
    return f16_to_f32(u16le(b, off));
}

// Q4_K / Q5_K 6-bit (scale, min) pair j from the 12 packed bytes S (get_scale_min_k4).
inline void scale_min_k4(const std::byte* S, int j, uint8_t& sc, uint8_t& m) {
    const auto uj = static_cast<size_t>(j);
    if (j < 4) {
        sc = static_cast<uint8_t>(u8(S, uj) & 63);
        m = static_cast<uint8_t>(u8(S, uj + 4) & 63);
    } else {
        sc = static_cast<uint8_t>((u8(S, uj + 4) & 15) | ((u8(S, uj - 4) >> 6) << 4));
        m = static_cast<uint8_t>((u8(S, uj + 4) >> 4) | ((u8(S, uj) >> 6) << 4));
    }
}

void dequant_q2_k(const std::byte* b, float* y);
void dequant_q3_k(const std::byte* b, float* y);
void dequant_q4_k(const std::byte* b, float* y);
void dequant_q5_k(const std::byte* b, float* y);
void dequant_q6_k(const std::byte* b, float* y);

}  // namespace vkllm::qdetail
