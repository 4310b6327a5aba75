#pragma once
// The VkInstance, optionally with the Khronos validation layer and a debug messenger that hands
// every message to a caller-supplied sink (tests fail on any message; the CLI prints them).

#include <vulkan/vulkan.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vkllm::vk {

enum class MessageSeverity { Info, Warning, Error };
using MessageSink = std::function<void(MessageSeverity, const std::string&)>;

struct InstanceOptions {
    bool validation = false;  // enable VK_LAYER_KHRONOS_validation (throws if not installed)
    MessageSink sink;         // receives validation warnings and errors; required with validation
};

class Instance {
  public:
    explicit Instance(InstanceOptions options);
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance get() const { return instance_; }
    std::vector<VkPhysicalDevice> physical_devices() const;
    bool validation_enabled() const { return messenger_ != VK_NULL_HANDLE; }

  private:
    // Owned. The sink lives on the heap so the messenger's user-data pointer stays valid.
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    std::unique_ptr<MessageSink> sink_;
};

}  // namespace vkllm::vk
