#include "runtime/vk/device_info.h"

#include <cstring>
#include <string>

namespace vkllm::vk {
namespace {

std::string vendor_name(uint32_t vendor_id, const std::string& driver_name) {
    switch (vendor_id) {
        case 0x10DE:
            return "NVIDIA";
        case 0x1002:
            return "AMD";
        case 0x8086:
            return "Intel";
        case 0x13B5:
            return "ARM";
        case 0x5143:
            return "Qualcomm";
        case 0x106B:
            return "Apple";
        case 0x10005:
            return "Mesa (" + driver_name + ")";
        default:
            return "vendor 0x" + std::to_string(vendor_id);
    }
}

bool has_extension(VkPhysicalDevice device, const char* name) {
    uint32_t count = 0;
    vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> exts(count);
    vkEnumerateDeviceExtensionProperties(device, nullptr, &count, exts.data());
    for (const auto& e : exts) {
        if (std::strcmp(e.extensionName, name) == 0) return true;
    }
    return false;
}

void find_queue_families(VkPhysicalDevice device, DeviceInfo& info) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
    // Prefer a compute family without graphics (dedicated async-compute queue), else any.
    for (uint32_t i = 0; i < count; ++i) {
        const VkQueueFlags f = families[i].queueFlags;
        if ((f & VK_QUEUE_COMPUTE_BIT) && !(f & VK_QUEUE_GRAPHICS_BIT)) {
            info.compute_queue_family = i;
            info.timestamps = families[i].timestampValidBits > 0;
            break;
        }
    }
    for (uint32_t i = 0; i < count && info.compute_queue_family == UINT32_MAX; ++i) {
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            info.compute_queue_family = i;
            info.timestamps = families[i].timestampValidBits > 0;
        }
    }
    for (uint32_t i = 0; i < count; ++i) {
        const VkQueueFlags f = families[i].queueFlags;
        if ((f & VK_QUEUE_TRANSFER_BIT) && !(f & (VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT))) {
            info.transfer_queue_family = i;
            break;
        }
    }
}

}  // namespace

DeviceInfo query_device_info(VkPhysicalDevice device, uint32_t index) {
    DeviceInfo info;
    info.handle = device;
    info.index = index;

    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    subgroup.pNext = &driver;
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &subgroup;
    vkGetPhysicalDeviceProperties2(device, &props);
    const VkPhysicalDeviceProperties& p = props.properties;

    info.name = p.deviceName;
    info.driver_name = driver.driverName;
    info.driver_info = driver.driverInfo;
    info.vendor_id = p.vendorID;
    info.device_id = p.deviceID;
    info.vendor = vendor_name(p.vendorID, info.driver_name);
    info.type = p.deviceType;
    info.driver_version = p.driverVersion;
    info.api_version = p.apiVersion;
    std::memcpy(info.pipeline_cache_uuid, p.pipelineCacheUUID, VK_UUID_SIZE);
    info.subgroup_size = subgroup.subgroupSize;
    info.subgroup_arithmetic =
        (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
        (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
        (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
    info.timestamp_period_ns = static_cast<double>(p.limits.timestampPeriod);
    info.max_storage_buffer_range = p.limits.maxStorageBufferRange;
    info.min_storage_buffer_offset_alignment = p.limits.minStorageBufferOffsetAlignment;
    info.max_push_constants_bytes = p.limits.maxPushConstantsSize;
    for (int i = 0; i < 3; ++i) info.max_workgroup_count[i] = p.limits.maxComputeWorkGroupCount[i];
    info.max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
    info.max_shared_memory_bytes = p.limits.maxComputeSharedMemorySize;

    // Extension structs are chained only when the extension is there: they mean nothing otherwise.
    const bool has_int_dot =
        has_extension(device, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    VkPhysicalDeviceMaintenance3Properties m3{};
    m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
    VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR dot_props{};
    dot_props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES_KHR;
    if (has_int_dot) m3.pNext = &dot_props;
    VkPhysicalDeviceProperties2 props2{};
    props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props2.pNext = &m3;
    vkGetPhysicalDeviceProperties2(device, &props2);
    info.max_memory_allocation_size = m3.maxMemoryAllocationSize;

    VkPhysicalDeviceVulkan12Features f12{};
    f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    const bool has_pipeline_exec =
        has_extension(device, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR exec{};
    exec.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
    if (has_pipeline_exec) f12.pNext = &exec;
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot{};
    dot.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR;
    if (has_int_dot) {
        dot.pNext = f12.pNext;
        f12.pNext = &dot;
    }
    VkPhysicalDeviceVulkan11Features f11{};
    f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    f11.pNext = &f12;
    VkPhysicalDeviceFeatures2 features{};
    features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    features.pNext = &f11;
    if (p.apiVersion >= VK_API_VERSION_1_2) vkGetPhysicalDeviceFeatures2(device, &features);
    info.storage_16bit = f11.storageBuffer16BitAccess;
    info.storage_8bit = f12.storageBuffer8BitAccess;
    info.fp16_math = f12.shaderFloat16;
    info.int8_math = f12.shaderInt8;
    info.int_dot = has_int_dot && dot.shaderIntegerDotProduct == VK_TRUE;
    info.int_dot_accelerated =
        info.int_dot && dot_props.integerDotProduct4x8BitPackedSignedAccelerated == VK_TRUE &&
        dot_props.integerDotProduct4x8BitPackedMixedSignednessAccelerated == VK_TRUE;
    info.push_descriptor = has_extension(device, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    info.pipeline_statistics = has_pipeline_exec && exec.pipelineExecutableInfo == VK_TRUE;

    VkPhysicalDeviceMemoryProperties mem{};
    vkGetPhysicalDeviceMemoryProperties(device, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
        info.heaps.push_back({mem.memoryHeaps[i].size,
                              (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
    }
    find_queue_families(device, info);
    return info;
}

std::vector<std::string> DeviceInfo::missing_requirements() const {
    std::vector<std::string> missing;
    if (api_version < VK_API_VERSION_1_2) {
        missing.push_back("Vulkan 1.2 (device reports " + api_version_string(api_version) + ")");
    }
    if (!storage_16bit) missing.push_back("storageBuffer16BitAccess (16-bit storage buffers)");
    if (!storage_8bit) missing.push_back("storageBuffer8BitAccess (8-bit storage buffers)");
    if (!subgroup_arithmetic) missing.push_back("subgroup basic+arithmetic ops in compute shaders");
    if (!push_descriptor) missing.push_back("VK_KHR_push_descriptor");
    if (compute_queue_family == UINT32_MAX) missing.push_back("a compute queue");
    if (max_push_constants_bytes < 128) missing.push_back("128 bytes of push constants");
    // The elementwise kernels run 256-wide workgroups (Vulkan guarantees only 128).
    if (max_workgroup_invocations < 256) {
        missing.push_back("256 invocations per compute workgroup (the device allows " +
                          std::to_string(max_workgroup_invocations) + ")");
    }
    return missing;
}

std::string api_version_string(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) +
           "." + std::to_string(VK_API_VERSION_PATCH(v));
}

std::string driver_version_string(const DeviceInfo& info) {
    const uint32_t v = info.driver_version;
    const uint32_t vendor = info.profile.empty() ? info.vendor_id : info.real_vendor_id;
    if (vendor == 0x10DE) {  // NVIDIA packs 10.8.8.6 bits
        return std::to_string((v >> 22) & 0x3FF) + "." + std::to_string((v >> 14) & 0xFF) + "." +
               std::to_string((v >> 6) & 0xFF);
    }
    return api_version_string(v);
}

}  // namespace vkllm::vk
