#pragma once
// Runs a one-workgroup probe to see the subgroups a device really executes, which can differ
// from what it reports: lavapipe 22.3 reports 32 or 64 at LP_NATIVE_VECTOR_WIDTH 1024 or 2048
// and runs 16 lanes (docs/design/subgroups.md). `vkllm devices` prints it; a test checks the
// invariant the kernels rely on.

#include <cstdint>
#include <vector>

#include "runtime/vk/context.h"

namespace vkllm::ops {

struct SubgroupProbe {
    uint32_t reported = 0;              // gl_SubgroupSize inside the shader
    uint32_t subgroups = 0;             // gl_NumSubgroups of the probed workgroup
    std::vector<uint32_t> invocations;  // per subgroup, counted with subgroupAdd
    uint32_t workgroup = 0;
};

// `workgroup` invocations in one workgroup (<= the device's limit, a power of two).
SubgroupProbe probe_subgroups(vk::Context& ctx, uint32_t workgroup);

}  // namespace vkllm::ops
