#pragma once
// Internal to quantize*.cpp: llama.cpp's rounding helper, byte writers, and block encoders.
// Each encoder reads block_elems floats at `x` and writes one block at `b`.

#include <bit>
#include <cstddef>
#include <cstdint>

#include "loader/fp16.h"

namespace vkllm::quant::detail {

// Round to nearest, ties to even, the way llama.cpp does it: adding 1.5*2^23 pushes the integer
// part into the low mantissa bits under the FPU's default rounding. Valid for |v| <= 4194303.
inline int nearest_int(float v) {
    const float t = v + 12582912.0f;
    return static_cast<int>(std::bit_cast<uint32_t>(t) & 0x007FFFFFu) - 0x00400000;
}

inline void put_u8(std::byte* b, size_t off, int v) {
    b[off] = static_cast<std::byte>(v & 0xFF);
}

inline void put_u16(std::byte* b, size_t off, uint16_t v) {
    put_u8(b, off, v & 0xFF);
    put_u8(b, off + 1, v >> 8);
}

inline void put_f16(std::byte* b, size_t off, float v) {
    put_u16(b, off, f32_to_f16(v));
}

void quant_q2_k(const float* x, std::byte* b);
void quant_q3_k(const float* x, std::byte* b);
void quant_q4_k(const float* x, std::byte* b);
void quant_q5_k(const float* x, std::byte* b);
void quant_q6_k(const float* x, std::byte* b);

}  // namespace vkllm::quant::detail
