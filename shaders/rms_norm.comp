#version 450
// RMSNorm over slices of n floats (gemma4-model.md §3.0):
//   y = residual + x * (mean(x^2) + eps)^-1/2 * scale * w
// One workgroup per slice. The per-head form (q/k/v norms) is the same kernel with n = head_dim:
// a [head_dim, n_heads, n_tokens] tensor is n_heads * n_tokens slices. The weight is used as
// stored (Gemma 4 has no +1 offset, §2.5); without HAS_WEIGHT it is 1 (V norm, router input).
// With Q8_OUT (no residual, n a multiple of 32) it also writes each slice's q8_1 form
// (quantize_q8.h) for the integer mat-vec that reads it next, saving that quantizer's dispatch:
// one invocation per 32-element block recomputes the block's outputs exactly as written to y.
#include "preamble.glsl"
#include "q8_1.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool HAS_WEIGHT = false;
layout(constant_id = 2) const bool HAS_RESIDUAL = false;
layout(constant_id = 3) const bool Q8_OUT = false;
layout(local_size_x_id = 0) in;

#include "elementwise_reduce.glsl"

// Absent optional inputs are bound to x by the host and never read.
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer R { float res[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
// Q8_OUT: codes (4 per word) of slice j at word (q_slice0 + j) * n / 4, its block entries at
// vec4 xd_first + (q_slice0 + j) * n / 32. Bound to y and unused otherwise.
layout(std430, binding = 4) writeonly buffer XQ { uint xq[]; };
layout(std430, binding = 4) writeonly buffer XD { vec4 xd[]; };

layout(push_constant) uniform Push {
    uint n;       // slice length
    uint slices;  // slices in this dispatch
    uint x_off;   // element offsets of the first slice inside each binding
    uint r_off;
    uint y_off;
    float eps;
    float scale;
    uint q_slice0;  // Q8_OUT: q8_1 vector index of this dispatch's first slice
    uint xd_first;  // Q8_OUT: vec4 index where the block entries start
} pc;

void main() {
    const uint s = wg_linear_id();
    if (s >= pc.slices) return;  // whole workgroup: barriers stay uniform
    const uint tid = gl_LocalInvocationID.x;
    const uint xb = pc.x_off + s * pc.n;
    float ss = 0.0;
    for (uint i = tid; i < pc.n; i += WG) {
        const float v = x[xb + i];
        ss += v * v;
    }
    ss = wg_sum(ss);
    const float inv = inversesqrt(ss / float(pc.n) + pc.eps) * pc.scale;
    const uint rb = pc.r_off + s * pc.n;
    const uint yb = pc.y_off + s * pc.n;
    for (uint i = tid; i < pc.n; i += WG) {
        float v = x[xb + i] * inv;
        if (HAS_WEIGHT) v *= w[i];
        if (HAS_RESIDUAL) v += res[rb + i];
        y[yb + i] = v;
    }
    if (Q8_OUT) {
        const uint q = pc.q_slice0 + s;
        for (uint blk = tid; blk < pc.n / 32u; blk += WG) {
            vec4 v[8];
            float amax = 0.0;
            [[unroll]] for (uint j = 0; j < 8u; ++j) {
                const uint i = blk * 32u + 4u * j;
                v[j] = vec4(x[xb + i], x[xb + i + 1u], x[xb + i + 2u], x[xb + i + 3u]) * inv;
                if (HAS_WEIGHT) v[j] *= vec4(w[i], w[i + 1u], w[i + 2u], w[i + 3u]);
                const vec4 a = abs(v[j]);
                amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
            }
            const float d = q8_1_scale(amax);
            int sums[2] = int[2](0, 0);
            [[unroll]] for (uint j = 0; j < 8u; ++j) {
                const ivec4 c = q8_1_codes(v[j], d);
                sums[j / 4u] += c.x + c.y + c.z + c.w;
                xq[q * (pc.n / 4u) + blk * 8u + j] = q8_1_pack(c);
            }
            xd[pc.xd_first + q * (pc.n / 32u) + blk] =
                vec4(d, d * float(sums[0]), d * float(sums[1]), 0.0);
        }
    }
}
