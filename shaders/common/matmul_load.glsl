// Adapter from the shared block decoders (quant_dispatch.glsl, read-only here) to the tiled
// mat-mat kernel (docs/design/matmul.md). The kernel walks K in sub-steps of 32 elements; a
// sub-step's A tile row is written by MM_UNITS_PER_ROW units of MM_UNIT_ELEMS elements each.
//   MM_SUBSTEPS        sub-steps per outer K step (outer step = 32 * MM_SUBSTEPS elements)
//   mm_decode_unit(row_byte, K, k0, r, j, v)
//                      unit j of the 32-element window starting at element k0 of a row (k0 is a
//                      multiple of 32, the window is sub-step r of its outer step)
//   mm_unit_k(j, e)    offset in the window of element e of unit j
// Float types: one element per unit; elements at or past K (any K) decode as zero.
// Legacy 32-element types: a window is one block, a unit is one whole decode item.
// K-quants: an outer step is RUNS windows; the items whose runs lie in it are
//   g * (32 / RUN_LEN) + j (g = group of the step inside the super-block) and window r holds
//   run r of each, at RUN_LEN * j (quant_k.glsl: run r starts at 32 r + RUN_LEN (sub % IPG)
//   from the group start). r is a compile-time constant after the caller's unrolled loop, so the
//   other runs' decode is dead code.

#if defined(TYPE_F32) || defined(TYPE_F16) || defined(TYPE_BF16)

#define MM_SUBSTEPS 1u
#define MM_UNITS_PER_ROW 32u
#define MM_UNIT_ELEMS 1

void mm_decode_unit(uint row_byte, uint K, uint k0, uint r, uint j, out float v[MM_UNIT_ELEMS]) {
    const uint k = k0 + j;
    float w[ITEM_ELEMS];
    decode_item(row_byte + min(k, K - 1u) * BLOCK_BYTES, 0u, w);  // stay inside the row
    v[0] = k < K ? w[0] : 0.0;
}

uint mm_unit_k(uint j, uint e) { return j; }

#elif defined(TYPE_Q4_0) || defined(TYPE_Q4_1) || defined(TYPE_Q5_0) || defined(TYPE_Q5_1) || \
    defined(TYPE_Q8_0)

#define MM_SUBSTEPS 1u
#define MM_UNITS_PER_ROW ITEMS
#define MM_UNIT_ELEMS ITEM_ELEMS

void mm_decode_unit(uint row_byte, uint K, uint k0, uint r, uint j, out float v[MM_UNIT_ELEMS]) {
    decode_item(row_byte + (k0 / 32u) * BLOCK_BYTES, j, v);
}

uint mm_unit_k(uint j, uint e) { return run_start(j, e / RUN_LEN) + e % RUN_LEN; }

#else  // K-quants, QK == 256

#define MM_SUBSTEPS RUNS
#define MM_UNITS_PER_ROW (32u / RUN_LEN)
#define MM_UNIT_ELEMS RUN_LEN

void mm_decode_unit(uint row_byte, uint K, uint k0, uint r, uint j, out float v[MM_UNIT_ELEMS]) {
    const uint in_block = k0 % QK;
    const uint group = in_block / (32u * RUNS);
    float w[ITEM_ELEMS];
    decode_item(row_byte + (k0 / QK) * BLOCK_BYTES, group * MM_UNITS_PER_ROW + j, w);
    [[unroll]] for (uint e = 0; e < RUN_LEN; ++e) {
        v[e] = w[r * RUN_LEN + e];
    }
}

uint mm_unit_k(uint j, uint e) { return RUN_LEN * j + e; }

#endif
