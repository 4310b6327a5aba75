#version 450
// Embedding row fetch: out[t][k] = scale * W[ids[t]][k] for a ggml table W (ne0 = K, ne1 = V),
// decoded to fp32. One thread per work item (quant_dispatch.glsl) of one token's row; grid y
// is the token (offset by token_base). Dispatched once per table part: a token whose row lies
// in another part is skipped.
#include "preamble.glsl"

#define WEIGHT_BINDING 0
#include "quant_dispatch.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 1) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_rows[]; };

layout(push_constant) uniform Push {
    uint K;
    uint part_first_row;
    uint part_rows;
    uint out_stride;  // elements between output rows
    uint token_base;  // first token of this dispatch
    float scale;
} pc;

void main() {
    w_part_blocks = pc.part_rows * (pc.K / QK);  // the grouped layouts need it
    const uint i = gl_GlobalInvocationID.x;
    const uint t = pc.token_base + gl_WorkGroupID.y;
    if (i >= (pc.K / QK) * ITEMS) {
        return;
    }
    const uint id = ids[t];
    if (id < pc.part_first_row || id - pc.part_first_row >= pc.part_rows) {
        return;
    }
    const uint blk = i / ITEMS;
    const uint sub = i % ITEMS;
    const uint row_bytes = (pc.K / QK) * BLOCK_BYTES;
    float w[ITEM_ELEMS];
    decode_item((id - pc.part_first_row) * row_bytes + blk * BLOCK_BYTES, sub, w);
    const uint o = t * pc.out_stride + blk * QK;
    [[unroll]] for (uint r = 0; r < RUNS; ++r) {
        [[unroll]] for (uint e = 0; e < RUN_LEN; ++e) {
            out_rows[o + run_start(sub, r) + e] = w[r * RUN_LEN + e] * pc.scale;
        }
    }
}
