#version 450
// Decode mat-vec: y[c][r] = sum_k W[r][k] * x[c][k] for a ggml weight W (ne0 = K, ne1 = rows)
// and 1..8 fp32 activation columns. With -D MATVEC_ID it is the MoE expert mat-vec: each
// (token, slot) in grid z reads its expert id from a device buffer and multiplies by that
// expert's N rows of the stacked [K, N, E] weight.
//
// Decomposition (docs/design/matvec.md): each subgroup owns ROWS rows at a time and strides over
// their blocks in work items (quant_dispatch.glsl), so no barrier or shared memory is needed:
// a row's partial sums meet in one subgroupAdd. The x values of an item are loaded once per
// column and reused for all ROWS rows; each weight byte is read once for all columns.
//
// With -D GLU it is the fp32 gated mat-vec (matvec_q8.comp says how the weight is laid out): row
// r of the gate half and row r of the up half together, gelu_tanh(gate) * up written as y.
#include "preamble.glsl"

#define WEIGHT_BINDING 0
#include "quant_dispatch.glsl"

#define MAX_ROWS 4
#define MAX_COLS 8

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 2;         // rows a subgroup computes together, <= 4
layout(constant_id = 2) const uint ROWS_PER_WG = 8;  // rows per workgroup (subgroups * ROWS)
layout(constant_id = 3) const uint NCOLS = 1;        // activation columns, <= 8
layout(constant_id = 4) const bool X_VEC4 = false;   // x columns start on 4-element boundaries

layout(std430, binding = 1) readonly buffer XScalar { float x_s[]; };
layout(std430, binding = 1) readonly buffer XVec4 { vec4 x_v[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#ifdef MATVEC_ID
layout(std430, binding = 3) readonly buffer Ids { uint ids[]; };
#endif
#ifdef GLU
#include "gelu.glsl"
#define PHYS_ROWS (2u * ROWS)  // gate rows then the matching up rows
#else
#define PHYS_ROWS ROWS
#endif

layout(push_constant) uniform Push {
    uint K;
    uint part_rows;       // rows in the bound weight part
    uint part_first_row;  // global row index of the part's first row
    uint y_first;         // matvec: y element of the part's first row in column 0
    uint x_stride;        // elements between x columns (matvec_id: between x vectors)
    uint y_stride;        // elements between y columns (matvec_id: between (token, slot) rows)
    uint n_rows;          // matvec_id: rows per expert (N); GLU: output rows (F) per expert
    uint n_experts;       // matvec_id
    uint n_used;          // matvec_id: expert slots per token
    uint ids_stride;      // matvec_id: elements between tokens in ids
    uint x_per_slot;      // matvec_id: 1 = one x per (token, slot), 0 = one x per token
} pc;

void load_x(uint base, uint sub, out float xv[ITEM_ELEMS]) {
    [[unroll]] for (uint r = 0; r < RUNS; ++r) {
        const uint o = base + run_start(sub, r);
#if RUN_LEN % 4 == 0
        if (X_VEC4) {
            [[unroll]] for (uint v = 0; v < RUN_LEN / 4; ++v) {
                const vec4 t = x_v[o / 4u + v];
                xv[r * RUN_LEN + 4 * v + 0] = t.x;
                xv[r * RUN_LEN + 4 * v + 1] = t.y;
                xv[r * RUN_LEN + 4 * v + 2] = t.z;
                xv[r * RUN_LEN + 4 * v + 3] = t.w;
            }
        } else
#endif
        {
            [[unroll]] for (uint e = 0; e < RUN_LEN; ++e) {
                xv[r * RUN_LEN + e] = x_s[o + e];
            }
        }
    }
}

void main() {
    w_part_blocks = pc.part_rows * (pc.K / QK);  // the grouped layouts need it
    const uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint wg_first = wg * ROWS_PER_WG;  // first row (of the part / of the expert)
    const uint row_bytes = (pc.K / QK) * BLOCK_BYTES;
#ifdef MATVEC_ID
    const uint pair = gl_WorkGroupID.z;  // token * n_used + slot
    const uint token = pair / pc.n_used;
    const uint expert = ids[token * pc.ids_stride + (pair - token * pc.n_used)];
    if (wg_first >= pc.n_rows || expert >= pc.n_experts) {
        return;
    }
#ifdef GLU
    const uint g0 = expert * 2u * pc.n_rows;  // the expert's F gate rows, then its F up rows
#else
    // Global rows of this workgroup: expert * n_rows + [wg_first, wg_first + ROWS_PER_WG).
    const uint g0 = expert * pc.n_rows;
    const uint part_end = pc.part_first_row + pc.part_rows;
    if (g0 + wg_first + ROWS_PER_WG <= pc.part_first_row || g0 + wg_first >= part_end) {
        return;  // none of these rows is in the bound part
    }
#endif
    const uint limit = pc.n_rows;
    const uint x_base = (pc.x_per_slot != 0u ? pair : token) * pc.x_stride;
    const uint y_base = pair * pc.y_stride;
#elif defined(GLU)
    if (wg_first >= pc.n_rows) {
        return;
    }
    const uint limit = pc.n_rows;  // the weight is one part of 2 * n_rows rows
    const uint x_base = 0u;
    const uint y_base = pc.y_first;
#else
    if (wg_first >= pc.part_rows) {
        return;
    }
    const uint limit = pc.part_rows;
    const uint x_base = 0u;
    const uint y_base = pc.y_first;
#endif
    const uint lane = gl_SubgroupInvocationID;
    // Invocations per subgroup as this dispatch really runs, not gl_SubgroupSize: the workgroup
    // size is a multiple of every power-of-two subgroup size up to it (and a subgroup larger
    // than the workgroup holds just the workgroup), so the quotient is exact on a conforming
    // driver, and it stays right where the reported size is not the executed one (lavapipe at
    // LP_NATIVE_VECTOR_WIDTH 1024/2048 reports 32/64 and runs 16 lanes; docs/design/subgroups.md).
    const uint lanes = gl_WorkGroupSize.x / gl_NumSubgroups;
    const uint row_end = min(wg_first + ROWS_PER_WG, limit);
    const uint n_items = (pc.K / QK) * ITEMS;

    // The loop runs once when the device's subgroup count matches the host's assumption; it
    // stays correct for any count.
    for (uint r0 = wg_first + gl_SubgroupID * ROWS; r0 < row_end; r0 += gl_NumSubgroups * ROWS) {
        uint row_byte[MAX_ROWS];
        bool valid[MAX_ROWS];
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
            const uint row = r0 + r;
#if defined(GLU)  // the weight is one part; with MATVEC_ID, the expert's rows start at g0
#ifdef MATVEC_ID
            const uint first = g0;
#else
            const uint first = 0u;
#endif
            valid[r] = row < limit;
            row_byte[r] = (first + min(row, limit - 1u)) * row_bytes;
            row_byte[ROWS + r] = row_byte[r] + limit * row_bytes;  // the matching up row
#elif defined(MATVEC_ID)
            const uint g = g0 + row;
            valid[r] = row < limit && g >= pc.part_first_row && g < part_end;
            row_byte[r] = (valid[r] ? g - pc.part_first_row : 0u) * row_bytes;
#else
            valid[r] = row < limit;
            row_byte[r] = min(row, limit - 1u) * row_bytes;
#endif
        }
        float acc[MAX_ROWS][MAX_COLS];
        [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
                acc[r][c] = 0.0;
            }
        }
        for (uint i = lane; i < n_items; i += lanes) {
            const uint blk = i / ITEMS;
            const uint sub = i % ITEMS;
            float w[MAX_ROWS][ITEM_ELEMS];
            [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
                decode_item(row_byte[r] + blk * BLOCK_BYTES, sub, w[r]);
            }
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
                float xv[ITEM_ELEMS];
                load_x(x_base + c * pc.x_stride + blk * QK, sub, xv);
                [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
                    float s = acc[r][c];
                    [[unroll]] for (uint e = 0; e < ITEM_ELEMS; ++e) {
                        s = fma(w[r][e], xv[e], s);
                    }
                    acc[r][c] = s;
                }
            }
        }
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
#ifdef GLU
                const float total = gelu_tanh(subgroupAdd(acc[r][c])) *
                                    subgroupAdd(acc[ROWS + r][c]);
#else
                const float total = subgroupAdd(acc[r][c]);
#endif
                if (lane == 0u && valid[r]) {
                    y[y_base + c * pc.y_stride + r0 + r] = total;
                }
            }
        }
    }
}
