#version 450
// Combines the split-K partials of flash_attn.comp (mode 1). Scratch entry (split s, row r) is
// D unnormalised outputs, then m and l; row r = i * n_heads + a. Output fp32 [D, n_heads, n_q]:
//   M = max_s m_s,  L = sum_s l_s e^(m_s - M),  O = sum_s O_s e^(m_s - M) / L  (0 when L == 0).
// One workgroup per row; each thread owns head elements t, t + WG, ...
#include "preamble.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Scratch { float part[]; };
layout(std430, binding = 1) writeonly buffer Out { float o_out[]; };

layout(push_constant) uniform Push {
    uint n_rows;
    uint d;
    uint n_splits;
} pc;

void main() {
    const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.n_rows) return;
    const uint stride = pc.d + 2u;
    float m = -3.0e38;
    for (uint s = 0u; s < pc.n_splits; ++s) m = max(m, part[(s * pc.n_rows + row) * stride + pc.d]);
    float l = 0.0;
    for (uint s = 0u; s < pc.n_splits; ++s) {
        const uint e = (s * pc.n_rows + row) * stride;
        l += part[e + pc.d + 1u] * exp(part[e + pc.d] - m);
    }
    const float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint x = gl_LocalInvocationID.x; x < pc.d; x += gl_WorkGroupSize.x) {
        float acc = 0.0;
        for (uint s = 0u; s < pc.n_splits; ++s) {
            const uint e = (s * pc.n_rows + row) * stride;
            acc += part[e + x] * exp(part[e + pc.d] - m);
        }
        o_out[row * pc.d + x] = acc * inv;
    }
}
