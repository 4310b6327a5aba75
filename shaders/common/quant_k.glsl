// formats.md §2.3: K-quants, 256-element super-blocks split into 16 items of 16 elements.
// Q4_K / Q5_K: item t covers qs bytes 32c + l0 .. +7 (c = t/4, l0 = 8*(t%4)), which hold two
//   runs of 8: elements 64c + l0 (low nibbles, sub-block 2c) and 64c + 32 + l0 (high, 2c+1).
// Q2_K / Q3_K / Q6_K: item t covers l0 = 4*(t%8) in half h = t/8: four runs of 4 elements
//   128h + 32s + l0 (s = 0..3), one per 2-bit plane (Q2/Q3) or per nibble/plane pair (Q6).

#define QK 256u
#define ITEMS 16u

#if defined(TYPE_Q4_K) || defined(TYPE_Q5_K)

#define RUNS 2
#define RUN_LEN 8
#if defined(TYPE_Q4_K)
#define BLOCK_BYTES 144u
#else
#define BLOCK_BYTES 176u
#endif

uint run_start(uint sub, uint run) { return 64u * (sub / 4u) + 32u * run + 8u * (sub % 4u); }

// get_scale_min_k4 for sub-block j of the 12 packed bytes S (as three words s[0..2]).
vec2 scale_min_k4(const uint s[3], uint j) {
    if (j < 4u) {
        return vec2(float(byte_of(s[0], j) & 63u), float(byte_of(s[1], j) & 63u));
    }
    const uint lo = byte_of(s[2], j - 4u);
    const uint sc = (lo & 15u) | ((byte_of(s[0], j - 4u) >> 6) << 4);
    const uint m = (lo >> 4) | ((byte_of(s[1], j - 4u) >> 6) << 4);
    return vec2(float(sc), float(m));
}

void decode_item(uint b, uint sub, out float w[RUNS * RUN_LEN]) {
    // Blocks are 16-byte aligned (144 and 176 are multiples of 16): 32-bit loads throughout.
    const vec2 dm = unpackHalf2x16(ld_u32_a4(b));
    const uint s[3] = uint[3](ld_u32_a4(b + 4u), ld_u32_a4(b + 8u), ld_u32_a4(b + 12u));
    const uint c = sub / 4u;
    const uint l0 = 8u * (sub % 4u);
#if defined(TYPE_Q4_K)
    const uint qs = b + 16u + 32u * c + l0;
#else
    const uint qs = b + 48u + 32u * c + l0;
    const uint qh[2] = uint[2](ld_u32_a4(b + 16u + l0), ld_u32_a4(b + 20u + l0));
#endif
    const uint q[2] = uint[2](ld_u32_a4(qs), ld_u32_a4(qs + 4u));
    const vec2 sm0 = scale_min_k4(s, 2u * c);
    const vec2 sm1 = scale_min_k4(s, 2u * c + 1u);
    const float dl0 = dm.x * sm0.x, ml0 = dm.y * sm0.y;
    const float dl1 = dm.x * sm1.x, ml1 = dm.y * sm1.y;
    [[unroll]] for (uint i = 0; i < 8u; ++i) {
        const uint byte = byte_of(q[i / 4u], i % 4u);
        uint lo = byte & 15u;
        uint hi = byte >> 4;
#if defined(TYPE_Q5_K)
        const uint h = byte_of(qh[i / 4u], i % 4u) >> (2u * c);
        lo |= (h & 1u) << 4;
        hi |= (h & 2u) << 3;
#endif
        w[i] = dl0 * code_to_float(lo, 0.0) - ml0;
        w[8u + i] = dl1 * code_to_float(hi, 0.0) - ml1;
    }
}

#else  // Q2_K, Q3_K, Q6_K

#define RUNS 4
#define RUN_LEN 4
#if defined(TYPE_Q2_K)
#define BLOCK_BYTES 84u
#elif defined(TYPE_Q3_K)
#define BLOCK_BYTES 110u
#else
#define BLOCK_BYTES 210u
#endif

uint run_start(uint sub, uint run) { return 128u * (sub / 8u) + 32u * run + 4u * (sub % 8u); }

#if defined(TYPE_Q3_K)
// Signed 6-bit scale k of the 12 packed bytes at S (formats.md §2.3 Q3_K).
float q3k_scale(uint S, uint k) {
    const uint lo = k < 8u ? ld_u8(S + k) & 15u : ld_u8(S + k - 8u) >> 4;
    const uint hi = (ld_u8(S + 8u + (k % 4u)) >> (2u * (k / 4u))) & 3u;
    return code_to_float(lo | (hi << 4), 32.0);
}
#endif

void decode_item(uint b, uint sub, out float w[RUNS * RUN_LEN]) {
    const uint h = sub / 8u;
    const uint l0 = 4u * (sub % 8u);
    const uint k0 = 8u * h + (l0 >= 16u ? 1u : 0u);  // scale index of run s is k0 + 2s
#if defined(TYPE_Q2_K)
    const vec2 dm = unpackHalf2x16(ld_u32_a4(b + 80u));  // 84-byte blocks: 4-byte aligned
    const uint q = ld_u32_a4(b + 16u + 32u * h + l0);
    [[unroll]] for (uint s = 0; s < 4u; ++s) {
        const uint sc = ld_u8(b + k0 + 2u * s);
        const float dl = dm.x * float(sc & 15u);
        const float ml = dm.y * float(sc >> 4);
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            w[4u * s + i] = dl * code_to_float((byte_of(q, i) >> (2u * s)) & 3u, 0.0) - ml;
        }
    }
#elif defined(TYPE_Q3_K)
    const float d = ld_f16(b + 108u);
    const uint q = ld_u32_a2(b + 32u + 32u * h + l0);
    const uint hm = ld_u32_a2(b + l0);
    [[unroll]] for (uint s = 0; s < 4u; ++s) {
        const float dl = d * q3k_scale(b + 96u, k0 + 2u * s);
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            const uint q2 = (byte_of(q, i) >> (2u * s)) & 3u;
            const uint hb = (byte_of(hm, i) >> (4u * h + s)) & 1u;  // clear bit: subtract 4
            w[4u * s + i] = dl * code_to_float(q2 | (hb << 2), 4.0);
        }
    }
#else  // Q6_K, stored grouped (weight_views.glsl): ql, qh and scales at c as in GGUF, d apart
    const uvec2 at = grouped_block(b, BLOCK_BYTES);
    const uint c = at.x;
    const float d = ld_f16(at.y);
    const uint ql[2] = uint[2](ld_u32_a4(c + 64u * h + l0), ld_u32_a4(c + 64u * h + 32u + l0));
    const uint qh = ld_u32_a4(c + 128u + 32u * h + l0);
    [[unroll]] for (uint s = 0; s < 4u; ++s) {
        const float dl = d * ld_i8f(c + 192u + k0 + 2u * s);
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            const uint lo = (byte_of(ql[s % 2u], i) >> (4u * (s / 2u))) & 15u;
            const uint hi = (byte_of(qh, i) >> (2u * s)) & 3u;
            w[4u * s + i] = dl * code_to_float(lo | (hi << 4), 32.0);
        }
    }
#endif
}

#endif
