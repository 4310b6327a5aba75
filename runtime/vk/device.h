#pragma once
// The logical device: one compute queue (and a transfer queue where the hardware has one), with
// only the features vkllm uses enabled (vulkan-notes.md §1.1 "enable only what you use").

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/vk/device_info.h"
#include "runtime/vk/instance.h"

namespace vkllm::vk {

// Test-only: shrink the limits the arena and ops plan with, so the "tensor larger than one
// binding" paths run on lavapipe with small data. Zero means "use the device's value".
struct LimitOverrides {
    uint64_t max_binding_bytes = 0;
    uint64_t max_allocation_bytes = 0;
};

// Limits the rest of the runtime must respect (device limits, possibly shrunk by overrides).
struct EffectiveLimits {
    uint64_t max_binding_bytes = 0;     // one descriptor binding's range
    uint64_t max_allocation_bytes = 0;  // one VkDeviceMemory / VkBuffer
    uint64_t binding_alignment = 0;     // minStorageBufferOffsetAlignment
};

class Device {
  public:
    // `capture_statistics`: where the device reports pipeline statistics, enable them and create
    // every pipeline with them captured (Pipeline::statistics); a benchmark-only cost.
    Device(const Instance& instance, const DeviceInfo& info, LimitOverrides overrides = {},
           bool capture_statistics = false);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice get() const { return device_; }
    const DeviceInfo& info() const { return info_; }
    const EffectiveLimits& limits() const { return limits_; }
    VkQueue compute_queue() const { return compute_queue_; }
    uint32_t compute_family() const { return info_.compute_queue_family; }
    VkQueue transfer_queue() const { return transfer_queue_; }  // VK_NULL_HANDLE when none
    const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_fn() const { return push_descriptor_; }
    // Non-null only when statistics are captured.
    PFN_vkGetPipelineExecutablePropertiesKHR executable_properties_fn() const {
        return executable_properties_;
    }
    PFN_vkGetPipelineExecutableStatisticsKHR executable_statistics_fn() const {
        return executable_statistics_;
    }
    bool captures_pipeline_statistics() const { return executable_statistics_ != nullptr; }
    void wait_idle() const;

  private:
    DeviceInfo info_;
    EffectiveLimits limits_;
    VkPhysicalDeviceMemoryProperties memory_{};
    VkDevice device_ = VK_NULL_HANDLE;  // owned
    VkQueue compute_queue_ = VK_NULL_HANDLE;
    VkQueue transfer_queue_ = VK_NULL_HANDLE;
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_ = nullptr;
    PFN_vkGetPipelineExecutablePropertiesKHR executable_properties_ = nullptr;
    PFN_vkGetPipelineExecutableStatisticsKHR executable_statistics_ = nullptr;
};

// All devices, in enumeration order.
std::vector<DeviceInfo> list_devices(const Instance& instance);

// `spec`: "" picks the best supported device (discrete > integrated > virtual > CPU); digits pick
// by index; anything else is a case-insensitive substring of the device name. Throws
// UnsupportedDeviceError naming what is missing, or std::invalid_argument listing the devices.
DeviceInfo select_device(const Instance& instance, std::string_view spec);

}  // namespace vkllm::vk
