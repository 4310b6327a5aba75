#version 450
// Writes a constant into a float buffer; the smallest kernel, used to exercise the runtime core.
#include "preamble.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) writeonly buffer Out { float data[]; } out_buf;

layout(push_constant) uniform Push {
    uint count;
    float value;
} pc;

void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i < pc.count) {
        out_buf.data[i] = pc.value;
    }
}
