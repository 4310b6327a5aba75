#version 450
// What one workgroup's subgroups really are (docs/design/subgroups.md): out[0] = gl_SubgroupSize
// (what the driver reports to shaders), out[1] = gl_NumSubgroups, out[2 + s] = the invocations
// subgroup s holds, counted with subgroupAdd. Kernels rely on out[2 + s] being
// workgroup / gl_NumSubgroups; the probe test checks that on every device and width.
#include "preamble.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) writeonly buffer Out { uint data[]; } out_buf;

void main() {
    const uint lanes = subgroupAdd(1u);
    if (gl_LocalInvocationID.x == 0u) {
        out_buf.data[0] = gl_SubgroupSize;
        out_buf.data[1] = gl_NumSubgroups;
    }
    if (subgroupElect()) out_buf.data[2u + gl_SubgroupID] = lanes;
}
