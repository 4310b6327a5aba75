#version 450
// MoE expert mix (gemma4-model.md §3.6 step 6): out[t][i] = sum_s w[t*k + s] * x[(t*k + s)*n + i],
// the routing weights applied to the k expert outputs of each token and summed in slot order.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };

layout(push_constant) uniform Push {
    uint n;      // row length
    uint k;      // slots per token
    uint count;  // n * n_tokens
} pc;

void main() {
    const uint e = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG +
                   gl_LocalInvocationID.x;
    if (e >= pc.count) return;
    const uint t = e / pc.n;
    const uint i = e % pc.n;
    float sum = 0.0;
    for (uint s = 0; s < pc.k; ++s) {
        sum += w[t * pc.k + s] * x[(t * pc.k + s) * pc.n + i];
    }
    outv[e] = sum;
}
