#version 450
// fp32 activation columns -> q8_1 blocks for the integer dot-product mat-vec (quant_dot.glsl).
// Per column c and 32-element block b: d = max|x| / 127, codes q = round(x / d) in -127..127;
//   xq  (uvec4 view) codes, column c at byte c * K, block b at byte 32 b
//   xd  (vec4 view, from vec4 index pc.xd_first) (d, d * sum q[0..15], d * sum q[16..31], 0)
// Eight invocations share a block, four elements each; the block's maximum and sums meet in
// shared memory, so any subgroup size works. One workgroup: 32 blocks of one column.
#include "preamble.glsl"
#include "q8_1.glsl"

layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer XQ { uint xq[]; };
layout(std430, binding = 1) writeonly buffer XD { vec4 xd[]; };

layout(push_constant) uniform Push {
    uint K;         // elements per column, a multiple of 32
    uint x_stride;  // elements between x columns
    uint xd_first;  // vec4 index of column 0's first (d, sums) entry
} pc;

shared float s_amax[256];
shared int s_sum[256];

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint col = gl_WorkGroupID.y;
    const uint blk = gl_WorkGroupID.x * 32u + tid / 8u;  // block within the column
    const uint part = tid % 8u;                          // elements 4 part .. 4 part + 3
    const bool live = blk < pc.K / 32u;
    vec4 v = vec4(0.0);
    if (live) {
        const uint e = col * pc.x_stride + blk * 32u + 4u * part;
        v = vec4(x[e], x[e + 1u], x[e + 2u], x[e + 3u]);
    }
    const vec4 a = abs(v);
    s_amax[tid] = max(max(a.x, a.y), max(a.z, a.w));
    barrier();
    const uint lead = tid - part;
    float amax = 0.0;
    [[unroll]] for (uint i = 0; i < 8u; ++i) amax = max(amax, s_amax[lead + i]);
    const float d = q8_1_scale(amax);
    const ivec4 q = q8_1_codes(v, d);
    s_sum[tid] = q.x + q.y + q.z + q.w;
    if (live) xq[col * (pc.K / 4u) + blk * 8u + part] = q8_1_pack(q);
    barrier();
    if (live && part == 0u) {
        const int lo = s_sum[tid] + s_sum[tid + 1u] + s_sum[tid + 2u] + s_sum[tid + 3u];
        const int hi = s_sum[tid + 4u] + s_sum[tid + 5u] + s_sum[tid + 6u] + s_sum[tid + 7u];
        xd[pc.xd_first + col * (pc.K / 32u) + blk] = vec4(d, d * float(lo), d * float(hi), 0.0);
    }
}
