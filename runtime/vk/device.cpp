#include "runtime/vk/device.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include "runtime/vk/error.h"

namespace vkllm::vk {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return 4;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
            return 3;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
            return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU:
            return 1;
        default:
            return 0;
    }
}

std::string describe(const std::vector<DeviceInfo>& devices) {
    std::string s;
    for (const auto& d : devices) s += "\n  " + std::to_string(d.index) + ": " + d.name;
    return s.empty() ? " (none: is a Vulkan driver installed?)" : s;
}

void require_supported(const DeviceInfo& d) {
    const auto missing = d.missing_requirements();
    if (missing.empty()) return;
    std::string msg = "device " + std::to_string(d.index) + " '" + d.name + "' (driver " +
                      d.driver_name + " " + driver_version_string(d) + ") lacks:";
    for (const auto& m : missing) msg += "\n  - " + m;
    msg += "\n(try a newer driver, or another device with --device)";
    throw UnsupportedDeviceError(msg);
}

}  // namespace

std::vector<DeviceInfo> list_devices(const Instance& instance) {
    std::vector<DeviceInfo> out;
    const auto handles = instance.physical_devices();
    for (uint32_t i = 0; i < handles.size(); ++i) out.push_back(query_device_info(handles[i], i));
    return out;
}

DeviceInfo select_device(const Instance& instance, std::string_view spec) {
    const auto devices = list_devices(instance);
    if (devices.empty()) {
        throw UnsupportedDeviceError(
            "no Vulkan device found (install a GPU driver, or mesa-vulkan-drivers for lavapipe)");
    }
    if (spec.empty()) {
        const DeviceInfo* best = nullptr;
        for (const auto& d : devices) {
            if (!d.missing_requirements().empty()) continue;
            if (!best || type_rank(d.type) > type_rank(best->type)) best = &d;
        }
        if (!best) require_supported(devices.front());
        return *best;
    }
    const bool numeric = std::all_of(spec.begin(), spec.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
    for (const auto& d : devices) {
        const bool match = numeric ? std::to_string(d.index) == spec
                                   : lower(d.name).find(lower(spec)) != std::string::npos;
        if (match) {
            require_supported(d);
            return d;
        }
    }
    throw std::invalid_argument("no Vulkan device matches '" + std::string(spec) +
                                "'; devices are:" + describe(devices));
}

Device::Device(const Instance& instance, const DeviceInfo& info, LimitOverrides overrides,
               bool capture_statistics)
    : info_(info) {
    require_supported(info_);
    vkGetPhysicalDeviceMemoryProperties(info_.handle, &memory_);

    const float priority = 1.0f;
    std::vector<VkDeviceQueueCreateInfo> queues;
    for (uint32_t family : {info_.compute_queue_family, info_.transfer_queue_family}) {
        if (family == UINT32_MAX) continue;
        VkDeviceQueueCreateInfo q{};
        q.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
        q.queueFamilyIndex = family;
        q.queueCount = 1;
        q.pQueuePriorities = &priority;
        queues.push_back(q);
    }
    VkPhysicalDeviceVulkan12Features f12{};
    f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    f12.storageBuffer8BitAccess = VK_TRUE;
    f12.shaderFloat16 = info_.fp16_math ? VK_TRUE : VK_FALSE;
    f12.shaderInt8 = info_.int8_math ? VK_TRUE : VK_FALSE;
    const bool statistics = capture_statistics && info_.pipeline_statistics;
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR exec{};
    exec.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
    exec.pipelineExecutableInfo = VK_TRUE;
    if (statistics) f12.pNext = &exec;
    // The integer dot-product mat-vec's SPIR-V declares DotProduct: enabled wherever the device
    // has it, used where it is also accelerated.
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot{};
    dot.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR;
    dot.shaderIntegerDotProduct = VK_TRUE;
    if (info_.int_dot) {
        dot.pNext = f12.pNext;
        f12.pNext = &dot;
    }
    VkPhysicalDeviceVulkan11Features f11{};
    f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    f11.pNext = &f12;
    f11.storageBuffer16BitAccess = VK_TRUE;
    VkPhysicalDeviceFeatures2 features{};
    features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    features.pNext = &f11;

    std::vector<const char*> extensions = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
    if (statistics) extensions.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
    if (info_.int_dot) extensions.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    VkDeviceCreateInfo create{};
    create.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    create.pNext = &features;
    create.queueCreateInfoCount = static_cast<uint32_t>(queues.size());
    create.pQueueCreateInfos = queues.data();
    create.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    create.ppEnabledExtensionNames = extensions.data();
    check(vkCreateDevice(info_.handle, &create, nullptr, &device_), "vkCreateDevice");
    (void)instance;

    vkGetDeviceQueue(device_, info_.compute_queue_family, 0, &compute_queue_);
    if (info_.transfer_queue_family != UINT32_MAX) {
        vkGetDeviceQueue(device_, info_.transfer_queue_family, 0, &transfer_queue_);
    }
    push_descriptor_ = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
        vkGetDeviceProcAddr(device_, "vkCmdPushDescriptorSetKHR"));
    if (statistics) {
        executable_properties_ = reinterpret_cast<PFN_vkGetPipelineExecutablePropertiesKHR>(
            vkGetDeviceProcAddr(device_, "vkGetPipelineExecutablePropertiesKHR"));
        executable_statistics_ = reinterpret_cast<PFN_vkGetPipelineExecutableStatisticsKHR>(
            vkGetDeviceProcAddr(device_, "vkGetPipelineExecutableStatisticsKHR"));
        if (!executable_properties_) executable_statistics_ = nullptr;
    }

    limits_.max_binding_bytes = info_.max_storage_buffer_range;
    limits_.max_allocation_bytes = info_.max_memory_allocation_size;
    if (overrides.max_binding_bytes) {
        limits_.max_binding_bytes =
            std::min(limits_.max_binding_bytes, overrides.max_binding_bytes);
    }
    if (overrides.max_allocation_bytes) {
        limits_.max_allocation_bytes =
            std::min(limits_.max_allocation_bytes, overrides.max_allocation_bytes);
    }
    limits_.binding_alignment = std::max<uint64_t>(info_.min_storage_buffer_offset_alignment, 16);
}

Device::~Device() {
    if (device_ != VK_NULL_HANDLE) {
        vkDeviceWaitIdle(device_);
        vkDestroyDevice(device_, nullptr);
    }
}

void Device::wait_idle() const {
    check(vkDeviceWaitIdle(device_), "vkDeviceWaitIdle");
}

}  // namespace vkllm::vk
