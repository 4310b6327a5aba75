// TurboQuant KV blocks (formats.md §3; the CPU reference is quant/turbo_quant.h). A block codes
// one 128-element group, rotated by F = D(s2) H D(s1) / sqrt(128), as centroid indices plus an
// f16 norm. Blocks are addressed as 16-bit words like the other cache types (kv_types.glsl):
//   turbo2: 17 words: word 0 norm, words 1..16 two index bits per element, element 8j+e at
//           bits 2e of word 1+j.
//   turbo3: 25 words: as turbo2 for the low two bits, then words 17..24 the third bit, element
//           16j+e at bit e of word 17+j.
//   turbo4: 34 words: word 0 norm, word 1 rnorm (0), words 2..33 four bits per element, element
//           4j+e at bits 4e of word 2+j.
// KV_TURBO* values continue kv_types.glsl's KV_F16 / KV_Q8_0.

#define KV_TURBO2 2u
#define KV_TURBO3 3u
#define KV_TURBO4 4u
#define TURBO_GROUP 128u

bool kv_is_turbo(uint type) { return type >= KV_TURBO2; }

uint turbo_words(uint type) {
    return type == KV_TURBO2 ? 17u : type == KV_TURBO3 ? 25u : 34u;
}

// Sign vectors as bit masks, bit i set = +1 (formats.md §3.3's bytes as little-endian words).
const uint TURBO_S1[4] = uint[](0x1B95FCA6u, 0xBD07A6B6u, 0x5B39C444u, 0xB60DAF56u);
const uint TURBO_S2[4] = uint[](0xE953116Fu, 0xC09D7023u, 0x485ACA85u, 0x415A9A9Du);
const float TURBO_INV_SQRT128 = 0.08838834764831845;

float turbo_sign1(uint i) { return ((TURBO_S1[i >> 5] >> (i & 31u)) & 1u) != 0u ? 1.0 : -1.0; }
float turbo_sign2(uint i) { return ((TURBO_S2[i >> 5] >> (i & 31u)) & 1u) != 0u ? 1.0 : -1.0; }

const float TURBO_C2[4] = float[](-0.133462, -0.039994, 0.039994, 0.133462);
const float TURBO_C3[8] = float[](-0.190685, -0.117832, -0.065717, -0.021460, 0.021460, 0.065717,
                                  0.117832, 0.190685);
const float TURBO_C4[16] = float[](-0.173926, -0.117195, -0.089527, -0.068756, -0.051262,
                                   -0.035597, -0.020989, -0.006938, 0.006938, 0.020989, 0.035597,
                                   0.051262, 0.068756, 0.089527, 0.117195, 0.173926);
const float TURBO_T2[3] = float[](-0.086728, 0.0, 0.086728);
const float TURBO_T3[7] = float[](-0.154259, -0.091775, -0.043589, 0.0, 0.043589, 0.091775,
                                  0.154259);
// The CPU reference's turbo4 thresholds (the fork's GPU kernels round two of them differently).
const float TURBO_T4[15] = float[](-0.145560, -0.103361, -0.079142, -0.060009, -0.043430,
                                   -0.028293, -0.013963, 0.0, 0.013963, 0.028293, 0.043430,
                                   0.060009, 0.079142, 0.103361, 0.145560);

float turbo_centroid(uint type, uint idx) {
    if (type == KV_TURBO2) return TURBO_C2[idx];
    if (type == KV_TURBO3) return TURBO_C3[idx];
    return TURBO_C4[idx];
}

// The number of thresholds <= y (formats.md §3.3: strict <, so a value on a threshold goes up).
uint turbo_index(uint type, float y) {
    uint i = 0u;
    if (type == KV_TURBO2) {
        [[unroll]] for (uint k = 0u; k < 3u; ++k) i += y >= TURBO_T2[k] ? 1u : 0u;
    } else if (type == KV_TURBO3) {
        [[unroll]] for (uint k = 0u; k < 7u; ++k) i += y >= TURBO_T3[k] ? 1u : 0u;
    } else {
        [[unroll]] for (uint k = 0u; k < 15u; ++k) i += y >= TURBO_T4[k] ? 1u : 0u;
    }
    return i;
}

// Index of element e (0..127) of the block starting at word b of `arr` (a uint16_t array).
#define TURBO_INDEX(arr, type, b, e)                                                            \
    ((type) == KV_TURBO2 ? ((uint(arr[(b) + 1u + (e) / 8u]) >> (2u * ((e) % 8u))) & 3u)        \
     : (type) == KV_TURBO3                                                                     \
         ? (((uint(arr[(b) + 1u + (e) / 8u]) >> (2u * ((e) % 8u))) & 3u) |                     \
            (((uint(arr[(b) + 17u + (e) / 16u]) >> ((e) % 16u)) & 1u) << 2))                   \
         : ((uint(arr[(b) + 2u + (e) / 4u]) >> (4u * ((e) % 4u))) & 15u))

// (a_hi, a_lo) > (b_hi, b_lo) as unsigned 64-bit numbers.
bool turbo_gt64(uint ah, uint al, uint bh, uint bl) { return ah > bh || (ah == bh && al > bl); }

// Compares (s + ulp(s)/2)^2 with x for positive normal floats: true when it is below x, i.e. s
// rounds the square root of x down by at least half an ulp. Exact integer arithmetic: with
// s = ms 2^es and x = mx 2^ex (24-bit significands) this is (2 ms + 1)^2 < mx 2^(ex - 2 es + 2).
bool turbo_upper_mid_below(float s, float x) {
    const uint bs = floatBitsToUint(s), bx = floatBitsToUint(x);
    const uint ms = (bs & 0x7FFFFFu) | 0x800000u, mx = (bx & 0x7FFFFFu) | 0x800000u;
    const int k = int(bx >> 23) - 2 * int(bs >> 23) + 127 + 23 + 2;  // ex - 2 es + 2
    uint sh, sl;
    umulExtended(2u * ms + 1u, 2u * ms + 1u, sh, sl);
    uint xh = 0u, xl = 0u;
    if (k <= 0) {
        xl = k <= -32 ? 0u : mx >> uint(-k);  // s far too big: x tiny next to its midpoint
    } else if (k < 32) {
        xh = mx >> uint(32 - k);
        xl = mx << uint(k);
    } else {
        xh = k < 64 ? mx << uint(k - 32) : 0xFFFFFFFFu;
    }
    return turbo_gt64(xh, xl, sh, sl);  // equality is impossible: a midpoint squared has > 24 bits
}

// sqrt rounded to nearest for a positive normal x. The device's sqrt may be off by a few ulp
// (Vulkan allows it); the candidate is corrected with exact midpoint tests so the bytes match
// the CPU's correctly rounded sqrtf.
float turbo_sqrt_rn(float x) {
    float s = sqrt(x);
    for (uint i = 0u; i < 8u; ++i) {
        if (turbo_upper_mid_below(s, x)) {
            s = uintBitsToFloat(floatBitsToUint(s) + 1u);
        } else {
            const float p = uintBitsToFloat(floatBitsToUint(s) - 1u);
            if (!turbo_upper_mid_below(p, x)) {
                s = p;
            } else {
                break;
            }
        }
    }
    return s;
}
