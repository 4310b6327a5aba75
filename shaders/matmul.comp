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

layout(push_constant) uniform Push {
    uint K;
    uint M;          // activation columns
    uint part_rows;  // rows in the bound weight part
    uint y_first;    // y row (element within a column) of the part's first row
    uint x_stride;   // elements between x columns
    uint y_stride;   // elements between y columns
} pc;

const uint THREADS = (BM / TM) * (BN / TN);
const uint A_STRIDE = BM + 1u;
const uint B_STRIDE = BN + 1u;

shared float a_tile[WIN * A_STRIDE];  // [k][row]
shared float b_tile[WIN * B_STRIDE];  // [k][column]

void load_a(uint row0, uint row_bytes, uint k0, uint r) {
    const uint tid = gl_LocalInvocationID.x;
    for (uint u = tid; u < BM * MM_UNITS_PER_ROW; u += THREADS) {
        const uint row = u / MM_UNITS_PER_ROW;
        const uint j = u % MM_UNITS_PER_ROW;
        // Rows past the part read its last row; their outputs are never stored.
        const uint grow = min(row0 + row, pc.part_rows - 1u);
        float v[MM_UNIT_ELEMS];
        mm_decode_unit(grow * row_bytes, pc.K, k0, r, j, v);
        [[unroll]] for (uint e = 0; e < MM_UNIT_ELEMS; ++e) {
            a_tile[mm_unit_k(j, e) * A_STRIDE + row] = v[e];
        }
    }
}

// Columns past M and elements past K load as zero.
void load_b(uint col0, uint k0) {
    const uint tid = gl_LocalInvocationID.x;
    if (X_VEC4) {
        for (uint u = tid; u < BN * (WIN / 4u); u += THREADS) {
            const uint col = u / (WIN / 4u);
            const uint kk = 4u * (u % (WIN / 4u));
            const uint gcol = col0 + col;
            vec4 v = vec4(0.0);
            if (gcol < pc.M && k0 + kk < pc.K) {
                v = x_v[(gcol * pc.x_stride + k0 + kk) / 4u];
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
            const uint gcol = col0 + col;
            float v = 0.0;
            if (gcol < pc.M && k0 + kk < pc.K) {
                v = x_s[gcol * pc.x_stride + k0 + kk];
            }
            b_tile[kk * B_STRIDE + col] = v;
        }
    }
}

void main() {
    const uint row_tile = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint row0 = row_tile * BM;
    if (row0 >= pc.part_rows) {
        return;  // uniform per workgroup: the fold's padding groups
    }
    const uint col0 = gl_WorkGroupID.y * BN;
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
            load_b(col0, k0);
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
        const uint col = col0 + ty + j * (BN / TN);
        [[unroll]] for (uint i = 0; i < TM; ++i) {
            const uint row = row0 + tx + i * (BM / TM);
            if (col < pc.M && row < pc.part_rows) {
                y[col * pc.y_stride + pc.y_first + row] = acc[j * TM + i];
            }
        }
    }
}
