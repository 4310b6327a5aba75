#version 450
// Prefill mat-mat: y[m][n] = sum_k W[n][k] * x[m][k] for a ggml weight W (ne0 = K, ne1 = rows)
// and M fp32 activation columns; fp32 accumulation throughout.
//
// Tiling (docs/design/matmul.md): a workgroup owns a BM x BN output tile (BM weight rows of the
// bound part x BN columns) and walks K in 32-element windows. Each window, W's BM x 32 slice is
// decoded to fp32 and x's 32 x BN slice copied into shared memory (k-major, rows padded by one
// float against bank conflicts); then every thread accumulates its TM x TN outputs, with rows
// tx + i * BM/TM and columns ty + j * BN/TN so neighbouring threads read neighbouring floats.
// Grid: x (folded into z beyond the device limit) = row tiles of the part, y = column tiles.
//
// With -D MATMUL_ID it is the MoE expert mat-mat (runtime/ops/matmul_id.h): the weight stacks E
// experts of n_rows rows, and the columns of each expert are the (token, slot) pairs that
// shaders/moe_group.comp listed for it. Grid x = row tiles of one expert, y = column tiles of
// all experts back to back (expert 0's ceil(count_0 / BN) tiles, then expert 1's, ...; the host
// launches an upper bound and the surplus exits). A tile gathers its x columns and scatters its
// y columns through the list; tile rows outside the bound weight part are left to that part's
// dispatch.
#include "preamble.glsl"

#define WEIGHT_BINDING 0
#include "quant_dispatch.glsl"
#include "matmul_load.glsl"

#define WIN 32u  // K elements per window

layout(local_size_x_id = 0) in;                 // (BM / TM) * (BN / TN)
layout(constant_id = 1) const uint BM = 64;     // weight rows per tile
layout(constant_id = 2) const uint BN = 64;     // activation columns per tile
layout(constant_id = 3) const uint TM = 4;      // rows per thread
layout(constant_id = 4) const uint TN = 4;      // columns per thread
layout(constant_id = 5) const bool X_VEC4 = false;  // K and x_stride are multiples of 4

layout(std430, binding = 1) readonly buffer XScalar { float x_s[]; };
layout(std430, binding = 1) readonly buffer XVec4 { vec4 x_v[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#ifdef MATMUL_ID
// counts[E], offsets[E], then the pair lists (moe_group.comp)
layout(std430, binding = 3) readonly buffer Groups { uint groups[]; };
#endif

layout(push_constant) uniform Push {
    uint K;
    uint M;          // activation columns (matmul_id: unused)
    uint part_rows;  // rows in the bound weight part
    uint y_first;    // y row (element within a column) of the part's first row (matmul_id: unused)
    uint x_stride;   // elements between x columns
    uint y_stride;   // elements between y columns
#ifdef MATMUL_ID
    uint part_first_row;  // global row index of the part's first row
    uint n_rows;          // rows per expert
    uint n_experts;
    uint n_used;      // expert slots per token
    uint x_per_slot;  // 1 = one x column per (token, slot) pair, 0 = one per token
#endif
} pc;

const uint THREADS = (BM / TM) * (BN / TN);
const uint A_STRIDE = BM + 1u;
const uint B_STRIDE = BN + 1u;

shared float a_tile[WIN * A_STRIDE];  // [k][row]
shared float b_tile[WIN * B_STRIDE];  // [k][column]

// Set once in main: the tile's valid column count and, for matmul_id, its expert's first
// global row and each column's x and y offsets.
uint g_cols;
#ifdef MATMUL_ID
uint g_first;
shared uint col_x[BN];
shared uint col_y[BN];

uint x_base(uint col) { return col_x[col]; }
#else
uint g_col0;

uint x_base(uint col) { return (g_col0 + col) * pc.x_stride; }
#endif

// Row of the bound part that tile row `row` (row0 + local) reads. Rows past the expert or the
// part read a valid row; their outputs are never stored.
uint part_row(uint row) {
#ifdef MATMUL_ID
    const uint g = g_first + min(row, pc.n_rows - 1u);
    return min(max(g, pc.part_first_row), pc.part_first_row + pc.part_rows - 1u) -
           pc.part_first_row;
#else
    return min(row, pc.part_rows - 1u);
#endif
}

void load_a(uint row0, uint row_bytes, uint k0, uint r) {
    const uint tid = gl_LocalInvocationID.x;
    for (uint u = tid; u < BM * MM_UNITS_PER_ROW; u += THREADS) {
        const uint row = u / MM_UNITS_PER_ROW;
        const uint j = u % MM_UNITS_PER_ROW;
        const uint grow = part_row(row0 + row);
        float v[MM_UNIT_ELEMS];
        mm_decode_unit(grow * row_bytes, pc.K, k0, r, j, v);
        [[unroll]] for (uint e = 0; e < MM_UNIT_ELEMS; ++e) {
            a_tile[mm_unit_k(j, e) * A_STRIDE + row] = v[e];
        }
    }
}

// Columns past the tile's valid count and elements past K load as zero.
void load_b(uint k0) {
    const uint tid = gl_LocalInvocationID.x;
    if (X_VEC4) {
        for (uint u = tid; u < BN * (WIN / 4u); u += THREADS) {
            const uint col = u / (WIN / 4u);
            const uint kk = 4u * (u % (WIN / 4u));
            vec4 v = vec4(0.0);
            if (col < g_cols && k0 + kk < pc.K) {
                v = x_v[(x_base(col) + k0 + kk) / 4u];
            }
            b_tile[(kk + 0u) * B_STRIDE + col] = v.x;
            b_tile[(kk + 1u) * B_STRIDE + col] = v.y;
            b_tile[(kk + 2u) * B_STRIDE + col] = v.z;
            b_tile[(kk + 3u) * B_STRIDE + col] = v.w;
        }
    } else {
        for (uint u = tid; u < BN * WIN; u += THREADS) {
            const uint col = u / WIN;
            const uint kk = u % WIN;
            float v = 0.0;
            if (col < g_cols && k0 + kk < pc.K) {
                v = x_s[x_base(col) + k0 + kk];
            }
            b_tile[kk * B_STRIDE + col] = v;
        }
    }
}

void main() {
    w_part_blocks = pc.part_rows * (pc.K / QK);  // the grouped layouts need it
    const uint row_tile = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint row0 = row_tile * BM;
    // The early returns are uniform per workgroup.
#ifdef MATMUL_ID
    if (row0 >= pc.n_rows) {
        return;
    }
    // Find the expert of column tile y: experts own consecutive runs of tiles.
    uint tile = gl_WorkGroupID.y;
    uint expert = 0u;
    for (; expert < pc.n_experts; ++expert) {
        const uint tiles = (groups[expert] + BN - 1u) / BN;
        if (tile < tiles) {
            break;
        }
        tile -= tiles;
    }
    if (expert == pc.n_experts) {
        return;  // past the last expert's tiles
    }
    g_first = expert * pc.n_rows;
    const uint tile_rows_end = g_first + min(row0 + BM, pc.n_rows);
    if (tile_rows_end <= pc.part_first_row || g_first + row0 >= pc.part_first_row + pc.part_rows) {
        return;  // no row of this tile is in the bound part
    }
    const uint col0 = tile * BN;
    g_cols = min(BN, groups[expert] - col0);
    const uint list = 2u * pc.n_experts + groups[pc.n_experts + expert] + col0;
    for (uint c = gl_LocalInvocationID.x; c < g_cols; c += THREADS) {
        const uint pair = groups[list + c];
        col_x[c] = (pc.x_per_slot != 0u ? pair : pair / pc.n_used) * pc.x_stride;
        col_y[c] = pair * pc.y_stride;
    }
    barrier();
#else
    if (row0 >= pc.part_rows) {
        return;  // the fold's padding groups
    }
    g_col0 = gl_WorkGroupID.y * BN;
    g_cols = min(BN, pc.M - g_col0);
#endif
    const uint row_bytes = (pc.K / QK) * BLOCK_BYTES;
    const uint tx = gl_LocalInvocationID.x % (BM / TM);
    const uint ty = gl_LocalInvocationID.x / (BM / TM);

    float acc[TM * TN];
    [[unroll]] for (uint i = 0; i < TM * TN; ++i) {
        acc[i] = 0.0;
    }
    for (uint kb = 0; kb < pc.K; kb += WIN * MM_SUBSTEPS) {
        [[unroll]] for (uint r = 0; r < MM_SUBSTEPS; ++r) {
            const uint k0 = kb + WIN * r;
            load_a(row0, row_bytes, k0, r);
            load_b(k0);
            barrier();
            [[unroll]] for (uint k = 0; k < WIN; ++k) {
                float a[TM];
                float b[TN];
                [[unroll]] for (uint i = 0; i < TM; ++i) {
                    a[i] = a_tile[k * A_STRIDE + tx + i * (BM / TM)];
                }
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    b[j] = b_tile[k * B_STRIDE + ty + j * (BN / TN)];
                }
                [[unroll]] for (uint j = 0; j < TN; ++j) {
                    [[unroll]] for (uint i = 0; i < TM; ++i) {
                        acc[j * TM + i] = fma(a[i], b[j], acc[j * TM + i]);
                    }
                }
            }
            barrier();
        }
    }

    [[unroll]] for (uint j = 0; j < TN; ++j) {
        const uint col = ty + j * (BN / TN);
        [[unroll]] for (uint i = 0; i < TM; ++i) {
            const uint row = row0 + tx + i * (BM / TM);
#ifdef MATMUL_ID
            const uint g = g_first + row;
            if (col < g_cols && row < pc.n_rows && g >= pc.part_first_row &&
                g < pc.part_first_row + pc.part_rows) {
                y[col_y[col] + row] = acc[j * TM + i];
            }
#else
            if (col < g_cols && row < pc.part_rows) {
                y[(g_col0 + col) * pc.y_stride + pc.y_first + row] = acc[j * TM + i];
            }
#endif
        }
    }
}
