#version 450
// Streams one buffer into another with 16-byte loads and stores: the bandwidth a compute kernel
// can reach, which is the roofline the memory-bound decode kernels are measured against
// (vkCmdCopyBuffer may run on a DMA engine with a different ceiling).
#include "preamble.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };

layout(push_constant) uniform Push {
    uint count;  // uvec4 elements
    uint stride; // total invocations in the grid
} pc;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += pc.stride) {
        dst[i] = src[i];
    }
}
