#version 450
// Numerically stable softmax over rows of n floats: y = exp(s*x - m) / sum(exp(s*x - m)),
// m = max(s*x). One workgroup per row, three strided passes (max, sum, write). A row that is
// entirely -inf gives zeros rather than NaN.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "elementwise_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint n;
    uint rows;
    uint x_off;
    uint y_off;
    float scale;
} pc;

void main() {
    const uint row = wg_linear_id();
    if (row >= pc.rows) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint xb = pc.x_off + row * pc.n;
    const uint yb = pc.y_off + row * pc.n;
    float m = -1.0 / 0.0;
    for (uint i = tid; i < pc.n; i += WG) m = max(m, pc.scale * x[xb + i]);
    m = wg_max(m);
    const bool empty = isinf(m) && m < 0.0;
    float sum = 0.0;
    if (!empty) {
        for (uint i = tid; i < pc.n; i += WG) sum += exp(pc.scale * x[xb + i] - m);
    }
    sum = wg_sum(sum);
    const float inv = empty ? 0.0 : 1.0 / sum;
    for (uint i = tid; i < pc.n; i += WG) {
        y[yb + i] = empty ? 0.0 : exp(pc.scale * x[xb + i] - m) * inv;
    }
}
