#pragma once
// What a physical device is and can do, queried once; printed by `vkllm devices`.

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vkllm::vk {

struct MemoryHeapInfo {
    uint64_t size_bytes = 0;
    bool device_local = false;
};

struct DeviceInfo {
    VkPhysicalDevice handle = VK_NULL_HANDLE;
    uint32_t index = 0;  // position in vkEnumeratePhysicalDevices order
    std::string name;
    std::string vendor;  // "NVIDIA", "AMD", "Intel", "Mesa (lavapipe)", ...
    uint32_t vendor_id = 0;
    uint32_t device_id = 0;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    std::string driver_name;
    std::string driver_info;
    uint32_t driver_version = 0;
    uint32_t api_version = 0;
    uint8_t pipeline_cache_uuid[VK_UUID_SIZE] = {};
    std::vector<MemoryHeapInfo> heaps;

    uint32_t subgroup_size = 0;
    bool subgroup_arithmetic = false;  // in the compute stage
    bool fp16_math = false;            // shaderFloat16
    bool int8_math = false;            // shaderInt8
    // VK_KHR_shader_integer_dot_product's shaderIntegerDotProduct: OpSDot/OpSUDot on packed
    // 4x8-bit words compile; int_dot_accelerated: the driver says they run faster than the
    // equivalent integer arithmetic (signed and mixed-signedness 4x8 packed), which is when the
    // mat-vec takes its integer path (runtime/ops/matvec.h).
    bool int_dot = false;
    bool int_dot_accelerated = false;
    bool storage_16bit = false;
    bool storage_8bit = false;
    bool push_descriptor = false;
    // VK_KHR_pipeline_executable_properties with pipelineExecutableInfo: the driver reports
    // per-pipeline statistics (registers, spills) that `vkllm bench ops` prints.
    bool pipeline_statistics = false;
    bool timestamps = false;
    double timestamp_period_ns = 0;

    uint64_t max_storage_buffer_range = 0;
    uint64_t max_memory_allocation_size = 0;
    uint64_t min_storage_buffer_offset_alignment = 0;
    uint32_t max_push_constants_bytes = 0;
    uint32_t max_workgroup_count[3] = {};
    uint32_t max_workgroup_invocations = 0;
    uint32_t max_shared_memory_bytes = 0;

    // Set when a device profile presents this device as another GPU (device_profile.h): the
    // profile's name, and the real device's name and vendor id for messages.
    std::string profile;
    std::string real_name;
    uint32_t real_vendor_id = 0;

    uint32_t compute_queue_family = UINT32_MAX;
    uint32_t transfer_queue_family = UINT32_MAX;  // a transfer-only family, when one exists

    // Empty when vkllm can run on this device; otherwise why not (one line per missing thing).
    std::vector<std::string> missing_requirements() const;
};

DeviceInfo query_device_info(VkPhysicalDevice device, uint32_t index);

// Human-readable "1.3.230" for an API version; drivers are vendor-encoded (NVIDIA differs).
std::string api_version_string(uint32_t version);
std::string driver_version_string(const DeviceInfo& info);

}  // namespace vkllm::vk
