#include "runtime/vk/instance.h"

#include <cstring>
#include <string_view>

#include "runtime/vk/error.h"

namespace vkllm::vk {
namespace {

constexpr const char* k_validation_layer = "VK_LAYER_KHRONOS_validation";

bool has_layer(const char* name) {
    uint32_t count = 0;
    vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    vkEnumerateInstanceLayerProperties(&count, layers.data());
    for (const auto& l : layers) {
        if (std::strcmp(l.layerName, name) == 0) return true;
    }
    return false;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                          VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data,
                                          void* user) {
    const auto* sink = static_cast<const MessageSink*>(user);
    const MessageSeverity s =
        (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)     ? MessageSeverity::Error
        : (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) ? MessageSeverity::Warning
                                                                       : MessageSeverity::Info;
    (*sink)(s, data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

VkDebugUtilsMessengerCreateInfoEXT messenger_info(MessageSink* sink) {
    VkDebugUtilsMessengerCreateInfoEXT info{};
    info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    info.pfnUserCallback = on_message;
    info.pUserData = sink;
    return info;
}

}  // namespace

Instance::Instance(InstanceOptions options) {
    uint32_t loader_version = 0;
    if (vkEnumerateInstanceVersion(&loader_version) != VK_SUCCESS ||
        loader_version < VK_API_VERSION_1_2) {
        throw UnsupportedDeviceError(
            "the Vulkan loader supports only API " +
            std::to_string(VK_API_VERSION_MAJOR(loader_version)) + "." +
            std::to_string(VK_API_VERSION_MINOR(loader_version)) +
            "; vkllm needs Vulkan 1.2 (update the Vulkan loader / GPU driver)");
    }
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "vkllm";
    app.pEngineName = "vkllm";
    app.apiVersion = VK_API_VERSION_1_2;

    std::vector<const char*> layers;
    std::vector<const char*> extensions;
    if (options.validation) {
        if (!has_layer(k_validation_layer)) {
            throw UnsupportedDeviceError(
                "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                "(apt-get install vulkan-validationlayers)");
        }
        if (!options.sink) throw std::invalid_argument("Instance: validation needs a message sink");
        layers.push_back(k_validation_layer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        sink_ = std::make_unique<MessageSink>(std::move(options.sink));
    }
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<uint32_t>(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    // Chained so that messages from vkCreateInstance itself reach the sink too.
    VkDebugUtilsMessengerCreateInfoEXT early = messenger_info(sink_.get());
    if (sink_) info.pNext = &early;
    check(vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");

    if (sink_) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
        VkDebugUtilsMessengerCreateInfoEXT minfo = messenger_info(sink_.get());
        const VkResult r = create ? create(instance_, &minfo, nullptr, &messenger_)
                                  : VK_ERROR_EXTENSION_NOT_PRESENT;
        if (r != VK_SUCCESS) {
            vkDestroyInstance(instance_, nullptr);
            throw VulkanError("vkCreateDebugUtilsMessengerEXT", r);
        }
    }
}

Instance::~Instance() {
    if (messenger_ != VK_NULL_HANDLE) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy) destroy(instance_, messenger_, nullptr);
    }
    vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physical_devices() const {
    uint32_t count = 0;
    check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    check(vkEnumeratePhysicalDevices(instance_, &count, devices.data()),
          "vkEnumeratePhysicalDevices");
    return devices;
}

}  // namespace vkllm::vk
