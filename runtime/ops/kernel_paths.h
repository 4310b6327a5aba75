#pragma once
// Every choice the kernels make from the device, in one list (docs/design/device-profiles.md):
// `vkllm devices` prints it, and the profile tests check that a device presented as a profile
// gets exactly the list the profile's real GPU gets. Each entry calls the function the op itself
// uses, so the list cannot drift from what runs.

#include <string>
#include <vector>

#include "runtime/vk/device_info.h"

namespace vkllm::ops {

struct KernelPath {
    std::string what;    // "matvec", "matmul M=48", ...
    std::string choice;  // "workgroup 128, 8 rows per workgroup (2 per subgroup)", ...
    bool operator==(const KernelPath&) const = default;
};

std::vector<KernelPath> kernel_paths(const vk::DeviceInfo& info);

}  // namespace vkllm::ops
