// KV-cache element types (docs/design/attention.md). The cache is addressed as 16-bit words for
// both types, so one buffer declaration serves f16 and q8_0 and the type is a spec constant:
//   f16:  one word per element.
//   q8_0: 17 words per 32-element block (formats.md §2.2): word 0 = fp16 d, words 1..16 = qs
//         bytes, element 2j in the low byte of word 1+j and element 2j+1 in the high byte.
// Encoding helpers use integer arithmetic only, so the bytes do not depend on the device's
// division precision or fp16 rounding mode: they equal the CPU quantiser bit for bit.

#define KV_F16 0u
#define KV_Q8_0 1u
#define KV_Q8_0_WORDS 17u

float kv_half(uint word) { return unpackHalf2x16(word).x; }

// Signed byte `hi` (0 low, 1 high) of a 16-bit word.
float kv_i8(uint word, uint hi) { return float(bitfieldExtract(int(word), int(hi * 8u), 8)); }

// binary32 -> binary16 bits, round to nearest even, overflow to inf, NaN to 0x7E00 | sign
// (formats.md §2.0; the same rule as loader/fp16.h).
uint kv_f32_to_f16_bits(float f) {
    const uint x = floatBitsToUint(f);
    const uint sign = (x >> 16) & 0x8000u;
    const uint ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00u;
    if (ax >= 0x47800000u) return sign | 0x7C00u;
    const uint e32 = ax >> 23;
    if (ax < 0x38800000u) {  // f16 subnormal range: round(value / 2^-24)
        if (e32 < 102u) return sign;
        const uint m = (ax & 0x7FFFFFu) | 0x800000u;
        const uint shift = 126u - e32;
        uint q = m >> shift;
        const uint rem = m & ((1u << shift) - 1u);
        const uint halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (q & 1u) != 0u)) ++q;
        return sign | q;
    }
    uint h = ((e32 - 112u) << 10) | ((ax & 0x7FFFFFu) >> 13);
    const uint rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) ++h;
    return sign | h;
}

// a / b rounded to nearest even, for positive normal a and b with a normal quotient. Vulkan
// allows 2.5 ulp for fp32 division, so the quantiser's scale is computed by long division on the
// 24-bit significands instead.
float kv_div_rn(float a, float b) {
    const uint ba = floatBitsToUint(a), bb = floatBitsToUint(b);
    const uint ma = (ba & 0x7FFFFFu) | 0x800000u, mb = (bb & 0x7FFFFFu) | 0x800000u;
    int e = int(ba >> 23) - int(bb >> 23);
    uint r = ma;
    if (r < mb) {
        r <<= 1;
        --e;
    }
    uint q = 1u;
    r -= mb;
    for (uint i = 0u; i < 23u; ++i) {
        r <<= 1;
        q <<= 1;
        if (r >= mb) {
            r -= mb;
            q |= 1u;
        }
    }
    r <<= 1;
    if (r > mb || (r == mb && (q & 1u) != 0u)) ++q;
    if (q == 0x1000000u) {
        q = 0x800000u;
        ++e;
    }
    return uintBitsToFloat(uint(e + 127) << 23 | (q & 0x7FFFFFu));
}

// roundf(): half away from zero. v - trunc(v) is exact in fp32.
float kv_round_away(float v) {
    const float t = trunc(v);
    return abs(v - t) >= 0.5 ? t + sign(v) : t;
}

// Q8_0 scale and its inverse from a block's max |x| (formats.md §2.5.1): d = amax/127 and
// id = 1/d in fp32, id = 0 for an all-zero block. Values too small for the exact path (amax below
// ~1e-36) fall back to plain division.
vec2 kv_q8_0_scale(float amax) {
    if (amax == 0.0) return vec2(0.0);
    if (amax < 1.0e-35) {
        const float d0 = amax / 127.0;
        return vec2(d0, 1.0 / d0);
    }
    const float d = kv_div_rn(amax, 127.0);
    return vec2(d, kv_div_rn(1.0, d));
}
