#version 450
// Gated GELU: out = gelu_tanh(gate) * up (gemma4-model.md §3.0), over `count` outputs.
// Layouts: separate gate and up tensors of the output's shape, or (FUSED) one input whose rows
// hold n gate values then n up values (a matmul with a fused gate_up weight).
// gelu_tanh(x) = 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x + 0.044715 x^3), is evaluated as
// x / (1 + exp(-2z)) (the same function: 0.5 (1 + tanh z) = sigmoid(2z)); this form has no
// cancellation for negative x and reaches the right limits (0 and x) without NaN.
#include "preamble.glsl"

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const bool FUSED = false;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };  // bound to gate when FUSED
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };

layout(push_constant) uniform Push {
    uint n;      // outputs per gated row
    uint count;  // outputs in this dispatch
    uint g_off;  // element offsets inside each binding
    uint u_off;
    uint o_off;
} pc;

float gelu_tanh(float v) {
    const float z = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return v / (1.0 + exp(-2.0 * z));
}

void main() {
    const uint e = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * WG +
                   gl_LocalInvocationID.x;
    if (e >= pc.count) return;
    float g, u;
    if (FUSED) {
        const uint idx = pc.g_off + (e / pc.n) * 2u * pc.n + e % pc.n;
        g = gate[idx];
        u = gate[idx + pc.n];
    } else {
        g = gate[pc.g_off + e];
        u = up[pc.u_off + e];
    }
    outv[pc.o_off + e] = gelu_tanh(g) * u;
}
