#pragma once
// Exceptions thrown by the Vulkan core (style.md §2.4).

#include <vulkan/vulkan.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace vkllm::vk {

// Spelling of a VkResult, e.g. "VK_ERROR_OUT_OF_DEVICE_MEMORY".
std::string_view result_name(VkResult result);

// A Vulkan call failed: carries the call and the result name.
class VulkanError : public std::runtime_error {
  public:
    VulkanError(std::string_view call, VkResult result);
    VkResult result() const { return result_; }

  private:
    VkResult result_;
};

// The device lacks something vkllm needs: names the feature, the device and the driver.
class UnsupportedDeviceError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws VulkanError unless `result` is VK_SUCCESS.
inline void check(VkResult result, std::string_view call) {
    if (result != VK_SUCCESS) throw VulkanError(call, result);
}

}  // namespace vkllm::vk
