#version 450
// Logit soft-capping (gemma4-model.md §3.8): y = cap * tanh(x / cap), elementwise.
// tanh is evaluated here rather than with GLSL tanh(), whose error bound is loose near 0 and
// which overflows to NaN for large |x| on some implementations:
//   |v| <  0.3: odd Taylor series to v^13 (truncation < 1e-10 relative)
//   |v| >= 0.3: sign(v) (1 - t) / (1 + t), t = exp(-2|v|) (no cancellation: t <= 0.55)
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint count;
    uint x_off;
    uint y_off;
    float cap;
    float inv_cap;
} pc;

float tanh_accurate(float v) {
    const float av = abs(v);
    if (av < 0.3) {
        const float v2 = v * v;
        return v * (1.0 + v2 * (-1.0 / 3.0 + v2 * (2.0 / 15.0 + v2 * (-17.0 / 315.0 +
               v2 * (62.0 / 2835.0 + v2 * (-1382.0 / 155925.0 + v2 * (21844.0 / 6081075.0)))))));
    }
    const float t = exp(-2.0 * av);
    return sign(v) * ((1.0 - t) / (1.0 + t));
}

void main() {
    const uint e = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG +
                   gl_LocalInvocationID.x;
    if (e >= pc.count) return;
    y[pc.y_off + e] = pc.cap * tanh_accurate(x[pc.x_off + e] * pc.inv_cap);
}
