#include "runtime/vk/error.h"

namespace vkllm::vk {

std::string_view result_name(VkResult result) {
    switch (result) {
#define VKLLM_RESULT(name) \
    case name:             \
        return #name;
        VKLLM_RESULT(VK_SUCCESS)
        VKLLM_RESULT(VK_NOT_READY)
        VKLLM_RESULT(VK_TIMEOUT)
        VKLLM_RESULT(VK_INCOMPLETE)
        VKLLM_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
        VKLLM_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        VKLLM_RESULT(VK_ERROR_INITIALIZATION_FAILED)
        VKLLM_RESULT(VK_ERROR_DEVICE_LOST)
        VKLLM_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
        VKLLM_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
        VKLLM_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
        VKLLM_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
        VKLLM_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
        VKLLM_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
        VKLLM_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
        VKLLM_RESULT(VK_ERROR_FRAGMENTED_POOL)
        VKLLM_RESULT(VK_ERROR_UNKNOWN)
        VKLLM_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
        VKLLM_RESULT(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        VKLLM_RESULT(VK_ERROR_FRAGMENTATION)
        VKLLM_RESULT(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
        VKLLM_RESULT(VK_PIPELINE_COMPILE_REQUIRED)
#undef VKLLM_RESULT
        default:
            return "VK_RESULT_UNKNOWN";
    }
}

VulkanError::VulkanError(std::string_view call, VkResult result)
    : std::runtime_error(std::string(call) + " failed: " + std::string(result_name(result)) +
                         (result == VK_ERROR_OUT_OF_DEVICE_MEMORY
                              ? " (the GPU ran out of memory: use a smaller model, context or "
                                "quantized KV cache)"
                          : result == VK_ERROR_DEVICE_LOST
                              ? " (the driver reset the GPU: a kernel ran too long or faulted)"
                              : "")),
      result_(result) {}

}  // namespace vkllm::vk
