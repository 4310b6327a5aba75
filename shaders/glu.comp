#version 450
// Gated GELU: out = gelu_tanh(gate) * up (gemma4-model.md §3.0), over `count` outputs.
// Layouts: separate gate and up tensors of the output's shape, or (FUSED) one input whose rows
// hold n gate values then n up values (a matmul with a fused gate_up weight).
// With Q8_OUT it also writes the q8_1 form of the output (quantize_q8.h; output rows are the
// vectors, a multiple of 32 long) for the integer mat-vec that reads it next: each invocation
// then computes 4 consecutive outputs and 8 of them share a block through shared memory.
#include "preamble.glsl"
#include "gelu.glsl"
#include "q8_1.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool FUSED = false;
layout(constant_id = 2) const bool Q8_OUT = false;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };  // bound to gate when FUSED
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };
// Q8_OUT: codes of output element i (of the whole tensor) at byte q_elem0 + i, its block's
// entry at vec4 xd_first + (q_elem0 + i) / 32. Bound to out and unused otherwise.
layout(std430, binding = 3) writeonly buffer XQ { uint xq[]; };
layout(std430, binding = 3) writeonly buffer XD { vec4 xd[]; };

layout(push_constant) uniform Push {
    uint n;      // outputs per gated row
    uint count;  // outputs in this dispatch
    uint g_off;  // element offsets inside each binding
    uint u_off;
    uint o_off;
    uint q_elem0;   // Q8_OUT: element index of this dispatch's first output in the q8_1 form
    uint xd_first;  // Q8_OUT: vec4 index where the block entries start
} pc;

shared float s_amax[Q8_OUT ? WG : 1];
shared int s_sum[Q8_OUT ? WG : 1];

float glu_at(uint e) {
    float g, u;
    if (FUSED) {
        const uint idx = pc.g_off + (e / pc.n) * 2u * pc.n + e % pc.n;
        g = gate[idx];
        u = gate[idx + pc.n];
    } else {
        g = gate[pc.g_off + e];
        u = up[pc.u_off + e];
    }
    return gelu_tanh(g) * u;
}

void main() {
    const uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint tid = gl_LocalInvocationID.x;
    if (!Q8_OUT) {
        const uint e = wg * WG + tid;
        if (e < pc.count) outv[pc.o_off + e] = glu_at(e);
        return;
    }
    // 4 outputs per invocation, 8 invocations per 32-element block (count is whole blocks).
    const uint e0 = (wg * WG + tid) * 4u;
    const bool live = e0 < pc.count;
    vec4 v = vec4(0.0);
    if (live) {
        v = vec4(glu_at(e0), glu_at(e0 + 1u), glu_at(e0 + 2u), glu_at(e0 + 3u));
        outv[pc.o_off + e0] = v.x;
        outv[pc.o_off + e0 + 1u] = v.y;
        outv[pc.o_off + e0 + 2u] = v.z;
        outv[pc.o_off + e0 + 3u] = v.w;
    }
    const vec4 a = abs(v);
    s_amax[tid] = max(max(a.x, a.y), max(a.z, a.w));
    barrier();
    const uint part = tid % 8u, lead = tid - part;
    float amax = 0.0;
    [[unroll]] for (uint i = 0; i < 8u; ++i) amax = max(amax, s_amax[lead + i]);
    const float d = q8_1_scale(amax);
    const ivec4 q = q8_1_codes(v, d);
    s_sum[tid] = q.x + q.y + q.z + q.w;
    const uint qe = pc.q_elem0 + e0;  // element index in the q8_1 form
    if (live) xq[qe / 4u] = q8_1_pack(q);
    barrier();
    if (live && part == 0u) {
        const int lo = s_sum[tid] + s_sum[tid + 1u] + s_sum[tid + 2u] + s_sum[tid + 3u];
        const int hi = s_sum[tid + 4u] + s_sum[tid + 5u] + s_sum[tid + 6u] + s_sum[tid + 7u];
        xd[pc.xd_first + qe / 32u] = vec4(d, d * float(lo), d * float(hi), 0.0);
    }
}
