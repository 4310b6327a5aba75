#version 450
// Index of the largest element of each row of n floats, as uint32. Ties go to the lowest index;
// NaN never wins; a row with no non-NaN element gives 0. One workgroup per row striding over the
// row (rows up to the vocabulary size, 262144), then a workgroup reduction on (value, index).
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "elementwise_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Ids { uint ids[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
    uint x_off;
    uint y_off;
} pc;

const uint k_none = 0xffffffffu;

void main() {
    const uint row = wg_linear_id();
    if (row >= pc.rows) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint xb = pc.x_off + row * pc.n;
    // Ascending scan with a strict comparison keeps this invocation's lowest index of its max.
    float best = -1.0 / 0.0;
    uint best_i = k_none;
    for (uint i = tid; i < pc.n; i += WG) {
        const float v = x[xb + i];
        if (v > best || (best_i == k_none && !isnan(v))) {
            best = v;
            best_i = i;
        }
    }
    const float m = wg_max(best);
    const uint idx = wg_min_u(best == m ? best_i : k_none);
    if (tid == 0) ids[pc.y_off + row] = idx == k_none ? 0u : idx;
}
