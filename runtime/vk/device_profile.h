#pragma once
// Device profiles for testing (docs/design/device-profiles.md): a profile presents the device the
// runtime really has (lavapipe in CI) as a named GPU, so every choice the runtime makes from
// DeviceInfo (workgroup and tile sizes, split-K, kernel variants, optional features) is the one
// it would make on that GPU, while the work still runs on the real device. A profile is not a
// second code path: it only rewrites the DeviceInfo that every choice is already made from.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/vk/device_info.h"

namespace vkllm::vk {

// One GPU's published properties: the fields of DeviceInfo that a choice may depend on.
struct DeviceProfile {
    std::string_view name;  // VKLLM_DEVICE_PROFILE value: "gtx1080", "rdna3", ...
    std::string_view gpu;   // the GPU it stands for
    uint32_t vendor_id;
    std::string_view vendor;
    VkPhysicalDeviceType type;
    uint32_t subgroup_size;  // as the driver reports it (VkPhysicalDeviceSubgroupProperties)
    bool fp16_math;          // shaderFloat16
    bool int8_math;          // shaderInt8
    bool int_dot;            // accelerated 4x8-bit packed integer dot product (signed and mixed)
    uint32_t max_shared_memory_bytes;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;
    uint64_t max_memory_allocation_size;
    uint64_t min_storage_buffer_offset_alignment;
    uint64_t vram_bytes;  // the device-local heap
};

// Every profile, in a fixed order.
std::span<const DeviceProfile> device_profiles();

// The profile called `name`, or nullopt.
std::optional<DeviceProfile> find_device_profile(std::string_view name);

// The profile called `name`; std::invalid_argument naming `what` (e.g. "--profile") and listing
// the profiles when there is none.
DeviceProfile device_profile_named(std::string_view name, std::string_view what);

// lavapipe's LP_NATIVE_VECTOR_WIDTH that makes it report `subgroup_size` (bits = 32 per lane).
uint32_t lavapipe_vector_width(uint32_t subgroup_size);

// The DeviceInfo the profile's GPU reports, for the queries a choice reads; handles, queues and
// driver strings are placeholders. Tests compare the runtime's choices on this with its choices
// on a profiled real device.
DeviceInfo profile_reference_info(const DeviceProfile& profile);

// `real` presented as `profile`: vendor, type, subgroup size and feature flags become the
// profile's; limits and memory become min(real, profile), since the real device must still be
// able to run what is chosen. Throws UnsupportedDeviceError, naming the LP_NATIVE_VECTOR_WIDTH
// to use, when the real device reports another subgroup size (kernels must run at the size the
// choices assume), and when the profile enables a feature the real device lacks.
DeviceInfo apply_device_profile(const DeviceInfo& real, const DeviceProfile& profile);

// The profile named by VKLLM_DEVICE_PROFILE ("" or unset: none). Throws std::invalid_argument
// for an unknown name.
std::optional<DeviceProfile> device_profile_from_env();

}  // namespace vkllm::vk
