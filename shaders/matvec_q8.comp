#version 450
// Decode mat-vec on q8_1 activations with integer dot products (docs/design/matvec.md):
// y[c][r] = sum_k W[r][k] * x[c][k] for a Q4_0, Q8_0, Q4_K, Q5_K or Q6_K weight and 1..8 columns
// quantized by quantize_q8_1.comp. With -D MATVEC_ID it is the MoE expert mat-vec (matvec.comp
// says how the expert ids and parts work; this file differs only in how an item is computed).
//
// Each subgroup owns ROWS rows and strides over their items; an item's codes are unpacked once
// and dotted with every column, and a row's partial sums meet in one subgroupAdd.
//
// With -D GLU it is the gated mat-vec of the MLPs (ops::record_matvec_glu, and with MATVEC_ID
// record_matvec_id_glu): the weight (each expert's rows) holds F gate rows then F up rows, output
// row r is gelu_tanh(gate r . x) * (up r . x), each subgroup computing rows r of both halves
// together, and with Q8_OUT the workgroup (32 output rows) also writes the q8_1 form of its
// outputs for the down projection.
#include "preamble.glsl"

#define WEIGHT_BINDING 0
layout(std430, binding = 1) readonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 1) readonly buffer XD { vec4 xd[]; };
#include "quant_dot.glsl"

#define MAX_ROWS 4
#define MAX_COLS 8

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 2;         // rows a subgroup computes together, <= 4
layout(constant_id = 2) const uint ROWS_PER_WG = 8;  // rows per workgroup (subgroups * ROWS)
layout(constant_id = 3) const uint NCOLS = 1;        // activation columns, <= 8

layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#ifdef MATVEC_ID
layout(std430, binding = 3) readonly buffer Ids { uint ids[]; };
#define YQ_BINDING 4
#else
#define YQ_BINDING 3
#endif
#ifdef GLU
#include "gelu.glsl"
#include "q8_1.glsl"
layout(constant_id = 4) const bool Q8_OUT = false;
// Q8_OUT: the q8_1 form of y (codes of element c * n_rows + r at that byte, then the block
// entries from vec4 pc.yq_first); bound to y and unused otherwise.
layout(std430, binding = YQ_BINDING) writeonly buffer YQ { uint yq[]; };
layout(std430, binding = YQ_BINDING) writeonly buffer YD { vec4 yd[]; };
shared float s_out[Q8_OUT ? 32 * MAX_COLS : 1];  // this workgroup's 32 outputs per column
#define PHYS_ROWS (2u * ROWS)  // gate rows then the matching up rows
#else
#define PHYS_ROWS ROWS
#endif
#ifndef GLU
// Split-K (docs/design/matvec.md): SPLIT subgroups share each group of ROWS rows, each walking
// every SPLIT-th run of `lanes` items, so a short row is done in fewer dependent steps; their
// sums meet in shared memory. 1 = no split (no shared memory, no barrier). Sized for subgroups of
// 4 or more lanes.
layout(constant_id = 5) const uint SPLIT = 1;
shared float s_part[SPLIT > 1u ? (gl_WorkGroupSize.x / 4u) * MAX_ROWS * MAX_COLS : 1u];
#else
const uint SPLIT = 1u;
#endif

layout(push_constant) uniform Push {
    uint K;
    uint part_rows;       // rows in the bound weight part
    uint part_first_row;  // global row index of the part's first row
    uint y_first;         // matvec: y element of the part's first row in column 0
    uint xd_first;        // vec4 index of the first (d, sums) entry; x vector v's codes start at
                          // uvec4 v * K / 16 and its entries at xd_first + v * K / 32
    uint y_stride;        // elements between y columns (matvec_id: between (token, slot) rows)
    uint n_rows;          // matvec_id: rows per expert (N); GLU: output rows (F) per expert
    uint n_experts;       // matvec_id
    uint n_used;          // matvec_id: expert slots per token
    uint ids_stride;      // matvec_id: elements between tokens in ids
    uint x_per_slot;      // matvec_id: 1 = one x per (token, slot), 0 = one x per token
    uint yq_first;        // GLU with Q8_OUT: vec4 index of the first block entry of yq
} pc;

void main() {
    w_part_blocks = pc.part_rows * (pc.K / QK);  // the grouped layouts need it
    const uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint wg_first = wg * ROWS_PER_WG;
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
    const uint g0 = expert * pc.n_rows;
    const uint part_end = pc.part_first_row + pc.part_rows;
    if (g0 + wg_first + ROWS_PER_WG <= pc.part_first_row || g0 + wg_first >= part_end) {
        return;
    }
#endif
    const uint limit = pc.n_rows;
    const uint x_vec = pc.x_per_slot != 0u ? pair : token;
    const uint y_base = pair * pc.y_stride;
#elif defined(GLU)
    if (wg_first >= pc.n_rows) {
        return;
    }
    const uint limit = pc.n_rows;  // the weight is one part of 2 * n_rows rows
    const uint x_vec = 0u;
    const uint y_base = pc.y_first;
#else
    if (wg_first >= pc.part_rows) {
        return;
    }
    const uint limit = pc.part_rows;
    const uint x_vec = 0u;
    const uint y_base = pc.y_first;
#endif
    const uint lane = gl_SubgroupInvocationID;
    // Lanes as the dispatch really runs them (matvec.comp says why not gl_SubgroupSize).
    const uint lanes = gl_WorkGroupSize.x / gl_NumSubgroups;
    const uint row_end = min(wg_first + ROWS_PER_WG, limit);
    const uint blocks = pc.K / QK;
    const uint n_items = blocks * ITEMS;
    const uint x16_col = pc.K / 16u;  // uvec4 of codes per x vector
    const uint xd_col = pc.K / 32u;   // (d, sums) entries per x vector

    // A device may run more subgroups than the host assumed (lavapipe reports 32 lanes at width
    // 1024 and runs 16) or, in principle, fewer: the split and the passes adapt.
    const uint split = min(SPLIT, gl_NumSubgroups);
    const uint groups = gl_NumSubgroups / split;
    const uint group = gl_SubgroupID / split, part = gl_SubgroupID % split;
    // Every subgroup makes the same number of passes (a split's barriers need it); one pass
    // where the host's assumption holds.
    const uint passes = (ROWS_PER_WG + groups * ROWS - 1u) / (groups * ROWS);
    for (uint pass = 0u; pass < passes; ++pass) {
        const uint r0 = wg_first + (pass * groups + group) * ROWS;
        const bool live = r0 < row_end;
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
            valid[r] = valid[r] && live;  // rows past the workgroup's belong to another
        }
        float acc[MAX_ROWS][MAX_COLS];
        [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
                acc[r][c] = 0.0;
            }
        }
        for (uint i = part * lanes + lane; live && i < n_items; i += split * lanes) {
            const uint blk = i / ITEMS;
            const uint sub = i % ITEMS;
            uint q[MAX_ROWS][ITEM_WORDS];
            vec4 s[MAX_ROWS];
            [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
                load_item(row_byte[r] + blk * BLOCK_BYTES, sub, q[r], s[r]);
            }
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
                const uint v = x_vec + c;
                // The block's first uvec4 of codes and its first (d, sums) entry.
                const uint x16 = v * x16_col + blk * (QK / 16u);
                const uint xblk = pc.xd_first + v * xd_col + blk * (QK / 32u);
                [[unroll]] for (uint r = 0; r < PHYS_ROWS; ++r) {
                    acc[r][c] += dot_item(q[r], s[r], x16, xblk, sub);
                }
            }
        }
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
            [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
#ifdef GLU
                const float total = gelu_tanh(subgroupAdd(acc[r][c])) *
                                    subgroupAdd(acc[ROWS + r][c]);
                if (Q8_OUT && lane == 0u && valid[r]) s_out[c * 32u + r0 + r - wg_first] = total;
#else
                const float total = subgroupAdd(acc[r][c]);
                if (SPLIT > 1u) {
                    if (lane == 0u) s_part[(gl_SubgroupID * MAX_ROWS + r) * MAX_COLS + c] = total;
                    continue;
                }
#endif
                if (lane == 0u && valid[r]) {
                    y[y_base + c * pc.y_stride + r0 + r] = total;
                }
            }
        }
        if (SPLIT > 1u) {
#ifndef GLU
            // The group's first subgroup adds the parts in a fixed order.
            barrier();
            if (part == 0u && lane == 0u) {
                [[unroll]] for (uint r = 0; r < ROWS; ++r) {
                    [[unroll]] for (uint c = 0; c < NCOLS; ++c) {
                        float total = 0.0;
                        for (uint p = 0u; p < split; ++p) {
                            total += s_part[((gl_SubgroupID + p) * MAX_ROWS + r) * MAX_COLS + c];
                        }
                        if (valid[r]) y[y_base + c * pc.y_stride + r0 + r] = total;
                    }
                }
            }
            barrier();  // before the next pass rewrites s_part
#endif
        }
    }
#ifdef GLU
    if (Q8_OUT) {
        // The workgroup's rows are one 32-element block of each column (the host makes
        // ROWS_PER_WG 32 and n_rows a multiple of 32); one invocation per column quantizes it
        // as quantize_q8_1.comp would, four codes at a time in the same order.
        barrier();
        const uint c = gl_LocalInvocationID.x;
        if (c < NCOLS) {
            float amax = 0.0;
            [[unroll]] for (uint i = 0; i < 32u; ++i) amax = max(amax, abs(s_out[c * 32u + i]));
            const float d = q8_1_scale(amax);
            // Element index in the q8_1 form: vector c (or the pair's vector) of n_rows.
#ifdef MATVEC_ID
            const uint e0 = pair * pc.n_rows + wg_first;
#else
            const uint e0 = c * pc.n_rows + wg_first;
#endif
            int half_sum[2] = int[2](0, 0);
            [[unroll]] for (uint w = 0; w < 8u; ++w) {
                const uint o = c * 32u + 4u * w;
                const ivec4 q = q8_1_codes(
                    vec4(s_out[o], s_out[o + 1u], s_out[o + 2u], s_out[o + 3u]), d);
                yq[e0 / 4u + w] = q8_1_pack(q);
                half_sum[w / 4u] += q.x + q.y + q.z + q.w;
            }
            yd[pc.yq_first + e0 / 32u] =
                vec4(d, d * float(half_sum[0]), d * float(half_sum[1]), 0.0);
        }
    }
#endif
}
