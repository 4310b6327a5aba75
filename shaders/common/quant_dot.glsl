// Integer dot-product decoders: a weight item as packed 4x8-bit codes plus float scales, dotted
// with q8_1 activations (quantize_q8_1.comp) by OpSDot / OpSUDot (SPV_KHR_integer_dot_product:
// four byte products and their sum in one instruction where the device accelerates it).
// The includer defines WEIGHT_BINDING and one TYPE_<T> of Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, binds the
// activations as `xq` (uvec4: 16 codes) and `xd` (vec4 per 32-code block: d, d * sum of codes
// 0..15, d * sum of codes 16..31, unused), and gets:
//   QK, BLOCK_BYTES  as in quant_dispatch.glsl;  ITEMS  items per block
//   ITEM_WORDS       packed code words of one item
//   void load_item(uint b, uint sub, out uint q[ITEM_WORDS], out vec4 s)
//                    item `sub` of the block at byte b: codes as they multiply x, and scales
//   float dot_item(uint q[ITEM_WORDS], vec4 s, uint x16, uint xblk, uint sub)
//                    the item's sum of w * x for the activation column whose block `blk` starts
//                    at uvec4 x16 of xq and vec4 xblk of xd (32 elements a block)
// Codes stay exact integers up to the one float multiply per 16 or 32 elements, so the only
// error beyond the float path's is the 8-bit rounding of x (docs/design/matvec.md).

#extension GL_EXT_spirv_intrinsics : require

#include "weight_views.glsl"

// OpSDot (4450) and OpSUDot (4452) with PackedVectorFormat4x8Bit (0): a and b are four bytes
// each; SUDot reads a as signed and b as unsigned bytes.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018],
                  id = 4450) int sdot4(uint a, uint b, spirv_literal int packed_format);
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018],
                  id = 4452) int sudot4(uint a, uint b, spirv_literal int packed_format);

// Signed x bytes times unsigned codes, over 4 words (16 elements).
int dot16u(uvec4 x, uint q0, uint q1, uint q2, uint q3) {
    return sudot4(x.x, q0, 0) + sudot4(x.y, q1, 0) + sudot4(x.z, q2, 0) + sudot4(x.w, q3, 0);
}

#if defined(TYPE_Q4_0) || defined(TYPE_Q8_0)
// formats.md §2.2. One item is one 32-element block. Stored grouped (weight_views.glsl), so the
// codes come in 16-byte loads.
#define QK 32u
#define ITEMS 1u
#if defined(TYPE_Q4_0)
#define BLOCK_BYTES 18u
#define ITEM_WORDS 8
#else
#define BLOCK_BYTES 34u
#define ITEM_WORDS 8
#endif

void load_item(uint b, uint sub, out uint q[ITEM_WORDS], out vec4 s) {
    const uvec2 at = grouped_block(b, BLOCK_BYTES);
    s = vec4(ld_f16(at.y), 0.0, 0.0, 0.0);
    const uvec4 w0 = w_u128[at.x >> 4];
#if defined(TYPE_Q4_0)
    // Byte j holds element j (low nibble) and j + 16 (high nibble); codes are unsigned 0..15,
    // the -8 is applied through the block sum of x.
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        q[i] = w0[i] & 0x0F0F0F0Fu;
        q[4u + i] = (w0[i] >> 4) & 0x0F0F0F0Fu;
    }
#else
    const uvec4 w1 = w_u128[(at.x >> 4) + 1u];
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        q[i] = w0[i];
        q[4u + i] = w1[i];
    }
#endif
}

float dot_item(uint q[ITEM_WORDS], vec4 s, uint x16, uint xblk, uint sub) {
    const uvec4 x0 = xq[x16];
    const uvec4 x1 = xq[x16 + 1u];
    const vec4 xs = xd[xblk];
#if defined(TYPE_Q4_0)
    const int isum = dot16u(x0, q[0], q[1], q[2], q[3]) + dot16u(x1, q[4], q[5], q[6], q[7]);
    return s.x * (xs.x * float(isum) - 8.0 * (xs.y + xs.z));
#else
    const int isum = sdot4(x0.x, q[0], 0) + sdot4(x0.y, q[1], 0) + sdot4(x0.z, q[2], 0) +
                     sdot4(x0.w, q[3], 0) + sdot4(x1.x, q[4], 0) + sdot4(x1.y, q[5], 0) +
                     sdot4(x1.z, q[6], 0) + sdot4(x1.w, q[7], 0);
    return s.x * xs.x * float(isum);
#endif
}

#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
// formats.md §2.3. One item is a pair of 32-element sub-blocks (2p, 2p + 1), p = sub: qs bytes
// 32p .. 32p + 31 hold sub-block 2p in the low nibbles and 2p + 1 in the high ones. Blocks are
// 16-byte aligned (144 and 176 bytes), so the codes come in 16-byte loads.
#define QK 256u
#define ITEMS 4u
#define ITEM_WORDS 16
#if defined(TYPE_Q4_K)
#define BLOCK_BYTES 144u
#define QS_OFFSET 16u
#else
#define BLOCK_BYTES 176u
#define QS_OFFSET 48u
#endif

// (scale, min) of sub-blocks 2p and 2p + 1 from the 12 packed bytes (get_scale_min_k4), without
// a branch on p: bytes 0..3 hold sub-blocks 0..3 directly, and 4..7 are assembled from the low
// or high nibbles of bytes 8..11 plus the top two bits of bytes 0..7.
vec4 scale_min_pair(uvec4 head, uint p) {
    const uint s0 = head.y, s1 = head.z, s2 = head.w;  // head.x holds d and dmin
    const uint sh = 16u * (p & 1u);  // the pair's two bytes within a word
    const uint direct_sc = (s0 >> sh) & 0x3F3Fu;
    const uint direct_m = (s1 >> sh) & 0x3F3Fu;
    const uint lo = (s2 >> sh) & 0xFFFFu;
    const uint up_sc = ((s0 >> sh) >> 6) & 0x0303u;
    const uint up_m = ((s1 >> sh) >> 6) & 0x0303u;
    const uint packed_sc = (lo & 0x0F0Fu) | (up_sc << 4);
    const uint packed_m = ((lo >> 4) & 0x0F0Fu) | (up_m << 4);
    const bool high = p >= 2u;
    const uint sc = high ? packed_sc : direct_sc;
    const uint m = high ? packed_m : direct_m;
    return vec4(float(sc & 0xFFu), float(sc >> 8), float(m & 0xFFu), float(m >> 8));
}

void load_item(uint b, uint sub, out uint q[ITEM_WORDS], out vec4 s) {
    const uvec4 head = w_u128[b >> 4];
    const vec2 dm = unpackHalf2x16(head.x);
    const vec4 sm = scale_min_pair(head, sub);
    s = vec4(dm.x * sm.x, dm.x * sm.y, dm.y * sm.z, dm.y * sm.w);
    const uint qs = (b + QS_OFFSET + 32u * sub) >> 4;
    const uvec4 w[2] = uvec4[2](w_u128[qs], w_u128[qs + 1u]);
#if defined(TYPE_Q5_K)
    // qh byte l holds bit 2p (element 64p + l) and bit 2p + 1 (element 64p + 32 + l).
    const uvec4 h[2] = uvec4[2](w_u128[(b + 16u) >> 4], w_u128[(b + 32u) >> 4]);
#endif
    [[unroll]] for (uint i = 0; i < 8u; ++i) {
        const uint word = w[i / 4u][i % 4u];
        q[i] = word & 0x0F0F0F0Fu;
        q[8u + i] = (word >> 4) & 0x0F0F0F0Fu;
#if defined(TYPE_Q5_K)
        const uint hb = h[i / 4u][i % 4u] >> (2u * sub);
        q[i] |= (hb & 0x01010101u) << 4;
        q[8u + i] |= ((hb >> 1) & 0x01010101u) << 4;
#endif
    }
}

float dot_item(uint q[ITEM_WORDS], vec4 s, uint x16, uint xblk, uint sub) {
    const uint b0 = x16 + 4u * sub;  // sub-block 2p: x block 2p of the super-block, 2 uvec4
    const int lo = dot16u(xq[b0], q[0], q[1], q[2], q[3]) +
                   dot16u(xq[b0 + 1u], q[4], q[5], q[6], q[7]);
    const int hi = dot16u(xq[b0 + 2u], q[8], q[9], q[10], q[11]) +
                   dot16u(xq[b0 + 3u], q[12], q[13], q[14], q[15]);
    const vec4 xs0 = xd[xblk + 2u * sub];
    const vec4 xs1 = xd[xblk + 2u * sub + 1u];
    return s.x * xs0.x * float(lo) + s.y * xs1.x * float(hi) -
           (s.z * (xs0.y + xs0.z) + s.w * (xs1.y + xs1.z));
}

#elif defined(TYPE_Q6_K)
// formats.md §2.3. Element 128h + 32g + l (half h, group g = 0..3, l = 0..31) is the low (g < 2)
// or high nibble of ql[64h + 32(g & 1) + l] with bits 2g, 2g + 1 of qh[32h + l] above it, minus
// 32; scale scales[8h + 2g + l / 16]. One item is 16 values of l (lh = sub & 1) in half
// h = sub / 2, for all four groups: 64 elements, one scale per group. Stored grouped
// (weight_views.glsl): ql, qh and scales sit 16-byte aligned at the codes offset as in GGUF, so
// an item is four 16-byte loads.
#define QK 256u
#define ITEMS 4u
#define ITEM_WORDS 16
#define BLOCK_BYTES 210u

void load_item(uint b, uint sub, out uint q[ITEM_WORDS], out vec4 s) {
    const uint h = sub >> 1, lh = sub & 1u;
    const uvec2 at = grouped_block(b, BLOCK_BYTES);
    const uint c = at.x >> 4;  // in uvec4: ql at c, qh at c + 8, scales at c + 12
    // Scales 8h + lh + {0, 2, 4, 6}, one per group: bytes lh and lh + 2 of words 2h and 2h + 1.
    const uvec4 sc = w_u128[c + 12u];
    const uvec2 sw = h == 0u ? sc.xy : sc.zw;
    const int sh = int(8u * lh);
    s = ld_f16(at.y) * vec4(float(bitfieldExtract(int(sw.x), sh, 8)),
                            float(bitfieldExtract(int(sw.x), sh + 16, 8)),
                            float(bitfieldExtract(int(sw.y), sh, 8)),
                            float(bitfieldExtract(int(sw.y), sh + 16, 8)));
    const uvec4 a = w_u128[c + 4u * h + lh];       // ql 64h + 16lh: groups 0 (low), 2 (high)
    const uvec4 e = w_u128[c + 4u * h + 2u + lh];  // ql 64h + 32 + 16lh: groups 1, 3
    const uvec4 hw = w_u128[c + 8u + 2u * h + lh];  // qh 32h + 16lh
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        q[i] = (a[i] & 0x0F0F0F0Fu) | ((hw[i] << 4) & 0x30303030u);
        q[4u + i] = (e[i] & 0x0F0F0F0Fu) | ((hw[i] << 2) & 0x30303030u);
        q[8u + i] = ((a[i] >> 4) & 0x0F0F0F0Fu) | (hw[i] & 0x30303030u);
        q[12u + i] = ((e[i] >> 4) & 0x0F0F0F0Fu) | ((hw[i] >> 2) & 0x30303030u);
    }
}

float dot_item(uint q[ITEM_WORDS], vec4 s, uint x16, uint xblk, uint sub) {
    const uint h = sub >> 1, lh = sub & 1u;
    float sum = 0.0;
    [[unroll]] for (uint g = 0; g < 4u; ++g) {
        // Group g of half h is x block 4h + g; this item's 16 codes are its half lh.
        const uint blk = 4u * h + g;
        const vec4 xs = xd[xblk + blk];
        const int isum = dot16u(xq[x16 + 2u * blk + lh], q[4u * g], q[4u * g + 1u],
                                q[4u * g + 2u], q[4u * g + 3u]);
        sum += s[g] * (xs.x * float(isum) - 32.0 * (lh == 0u ? xs.y : xs.z));
    }
    return sum;
}

#else
#error "quant_dot.glsl: define one of TYPE_Q4_0, TYPE_Q8_0, TYPE_Q4_K, TYPE_Q5_K, TYPE_Q6_K"
#endif
