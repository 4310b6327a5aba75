// formats.md §2.2: the 32-element legacy formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
// Q4/Q5: byte qs[j] holds element j (low nibble) and j+16 (high nibble). An item is half a block:
// qs bytes 8*sub..8*sub+7, i.e. runs [8*sub, +8) (low nibbles) and [16+8*sub, +8) (high).
// Q8_0: an item is a quarter block, one run of 8 signed bytes.

#define QK 32u

#if defined(TYPE_Q8_0)
#define BLOCK_BYTES 34u
#define ITEMS 4u
#define RUNS 1
#define RUN_LEN 8

uint run_start(uint sub, uint run) { return 8u * sub; }

void decode_item(uint b, uint sub, out float w[RUNS * RUN_LEN]) {
    const uvec2 at = grouped_block(b, BLOCK_BYTES);  // stored grouped (weight_views.glsl)
    const float d = ld_f16(at.y);
    const uint q[2] = uint[2](ld_u32_a4(at.x + 8u * sub), ld_u32_a4(at.x + 4u + 8u * sub));
    [[unroll]] for (uint i = 0; i < 8u; ++i) {
        // (byte ^ 0x80) - 128 is the two's-complement value of the byte.
        w[i] = code_to_float(byte_of(q[i / 4u], i % 4u) ^ 0x80u, 128.0) * d;
    }
}

#else  // Q4_0, Q4_1, Q5_0, Q5_1

#define ITEMS 2u
#define RUNS 2
#define RUN_LEN 8

#if defined(TYPE_Q4_0)
#define BLOCK_BYTES 18u
#elif defined(TYPE_Q4_1)
#define BLOCK_BYTES 20u
#elif defined(TYPE_Q5_0)
#define BLOCK_BYTES 22u
#else
#define BLOCK_BYTES 24u
#endif

uint run_start(uint sub, uint run) { return 8u * sub + 16u * run; }

void decode_item(uint b, uint sub, out float w[RUNS * RUN_LEN]) {
#if defined(TYPE_Q4_0)
    const uvec2 at = grouped_block(b, BLOCK_BYTES);  // stored grouped (weight_views.glsl)
    const float d = ld_f16(at.y);
    const float bias = 8.0;
    const uint qs = at.x + 8u * sub;
    const uint q[2] = uint[2](ld_u32_a4(qs), ld_u32_a4(qs + 4u));
#elif defined(TYPE_Q4_1)
    const vec2 dm = unpackHalf2x16(ld_u32_a4(b));
    const uint qs = b + 4u + 8u * sub;
    const uint q[2] = uint[2](ld_u32_a4(qs), ld_u32_a4(qs + 4u));
#elif defined(TYPE_Q5_0)
    const float d = ld_f16(b);
    const float bias = 16.0;
    const uint qh = ld_u32_a2(b + 2u) >> (8u * sub);  // bit i: element 8*sub+i, bit 16+i: +16
    const uint qs = b + 6u + 8u * sub;
    const uint q[2] = uint[2](ld_u32_a2(qs), ld_u32_a2(qs + 4u));
#else  // Q5_1
    const vec2 dm = unpackHalf2x16(ld_u32_a4(b));
    const uint qh = ld_u32_a4(b + 4u) >> (8u * sub);
    const uint qs = b + 8u + 8u * sub;
    const uint q[2] = uint[2](ld_u32_a4(qs), ld_u32_a4(qs + 4u));
#endif
    [[unroll]] for (uint i = 0; i < 8u; ++i) {
        const uint byte = byte_of(q[i / 4u], i % 4u);
        uint lo = byte & 15u;
        uint hi = byte >> 4;
#if defined(TYPE_Q5_0) || defined(TYPE_Q5_1)
        lo |= ((qh >> i) & 1u) << 4;
        hi |= ((qh >> (16u + i)) & 1u) << 4;
#endif
#if defined(TYPE_Q4_0) || defined(TYPE_Q5_0)
        w[i] = code_to_float(lo, bias) * d;
        w[8u + i] = code_to_float(hi, bias) * d;
#else
        w[i] = code_to_float(lo, 0.0) * dm.x + dm.y;
        w[8u + i] = code_to_float(hi, 0.0) * dm.x + dm.y;
#endif
    }
}

#endif
