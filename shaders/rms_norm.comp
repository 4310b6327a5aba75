#version 450
// RMSNorm over slices of n floats (gemma4-model.md §3.0):
//   y = residual + x * (mean(x^2) + eps)^-1/2 * scale * w
// One workgroup per slice. The per-head form (q/k/v norms) is the same kernel with n = head_dim:
// a [head_dim, n_heads, n_tokens] tensor is n_heads * n_tokens slices. The weight is used as
// stored (Gemma 4 has no +1 offset, §2.5); without HAS_WEIGHT it is 1 (V norm, router input).
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool HAS_WEIGHT = false;
layout(constant_id = 2) const bool HAS_RESIDUAL = false;
layout(local_size_x_id = 0) in;

#include "elementwise_reduce.glsl"

// Absent optional inputs are bound to x by the host and never read.
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer R { float res[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint n;       // slice length
    uint slices;  // slices in this dispatch
    uint x_off;   // element offsets of the first slice inside each binding
    uint r_off;
    uint y_off;
    float eps;
    float scale;
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
}
