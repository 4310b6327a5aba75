#version 450
// Elementwise binary ops on rows of n floats, OP (spec constant): 0 add, 1 mul, 2 scale.
//   add/mul: out[r][c] = a[r][c] op b[r % b_rows][c % b_n]   (b broadcast like ggml's repeat:
//            a scalar, one row, or the full shape)
//   scale:   out[r][c] = a[r][c] * scalar                     (b bound to a, unused)
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint OP = 0;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };

layout(push_constant) uniform Push {
    uint n;          // row length of a and out
    uint count;      // elements in this dispatch
    uint first_row;  // global row of this dispatch's first row (for b's row broadcast)
    uint a_off;
    uint b_off;
    uint o_off;
    uint b_n;
    uint b_rows;
    float scalar;
} pc;

void main() {
    const uint e = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG +
                   gl_LocalInvocationID.x;
    if (e >= pc.count) return;
    const float av = a[pc.a_off + e];
    float r;
    if (OP == 2u) {
        r = av * pc.scalar;
    } else {
        const uint row = pc.first_row + e / pc.n;
        const float bv = b[pc.b_off + (row % pc.b_rows) * pc.b_n + (e % pc.n) % pc.b_n];
        r = OP == 0u ? av + bv : av * bv;
    }
    outv[pc.o_off + e] = r;
}
