#pragma once
// Scalar conversions used inside ggml blocks (formats.md §2.0): IEEE binary16, bfloat16 and the
// E8M0 exponent byte of MXFP4. Written with integer bit manipulation so that the results do not
// depend on the host FPU's rounding mode or on F16C availability, and so they work in constexpr.

#include <bit>
#include <cstdint>

namespace vkllm {

// binary16 -> binary32, exact for every input (subnormals, inf and NaN payloads included).
constexpr float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    const uint32_t mant = h & 0x3FFu;
    if (exp == 0) {
        // Subnormal (or zero): mant * 2^-24 is exact in f32; apply the sign via the bit pattern
        // so that 0x8000 yields -0.0f.
        const float mag = static_cast<float>(mant) * 5.9604644775390625e-08f;
        return std::bit_cast<float>(std::bit_cast<uint32_t>(mag) | sign);
    }
    if (exp == 31) {
        return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf / NaN, payload kept
    }
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));  // rebias 15 -> 127
}

// binary32 -> binary16 with round-to-nearest-even; overflow -> ±inf; NaN -> 0x7E00 | sign
// (the quiet NaN llama.cpp writes).
constexpr uint16_t f32_to_f16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) {
        return static_cast<uint16_t>(sign | 0x7E00u);
    }
    if (ax >= 0x47800000u) {  // >= 2^16 (or inf): certainly beyond 65504 after rounding
        return static_cast<uint16_t>(sign | 0x7C00u);
    }
    const uint32_t e32 = ax >> 23;
    if (ax < 0x38800000u) {
        // Below the smallest f16 normal (2^-14): result is round(value / 2^-24). value =
        // m * 2^(e32-150) with the implicit bit in m, so the quotient is m >> (126 - e32).
        if (e32 < 102) {  // value < 2^-25: rounds to zero even when ties go up
            return sign;
        }
        const uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
        const uint32_t shift = 126u - e32;  // 14..24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u);
        const uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u) != 0)) {
            ++q;  // may carry into 0x400, which is exactly the smallest normal: still correct
        }
        return static_cast<uint16_t>(sign | q);
    }
    const uint32_t mant = ax & 0x7FFFFFu;
    uint32_t h = ((e32 - 112u) << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0)) {
        ++h;  // a carry out of the mantissa bumps the exponent; 0x7BFF + 1 = 0x7C00 = inf
    }
    return static_cast<uint16_t>(sign | h);
}

constexpr float bf16_to_f32(uint16_t b) {
    return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// f32 -> bf16 exactly as ggml does it: NaN is forced quiet, everything else rounds to nearest
// even (which also lets large finite values round up to inf).
constexpr uint16_t f32_to_bf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
        return static_cast<uint16_t>((bits >> 16) | 0x40u);
    }
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// MXFP4 scale byte: 2^(e-128) (the E8M0 value already halved, see formats.md §2.0). e = 0 and
// e = 1 land in the f32 subnormal range, so build the bits directly rather than calling ldexp.
constexpr float e8m0_to_f32_half(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e) - 1u) << 23;
    return std::bit_cast<float>(bits);
}

}  // namespace vkllm
