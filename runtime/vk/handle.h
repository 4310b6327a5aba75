#pragma once
// Move-only owner of one Vulkan handle. The deleter is a small callable that knows the parent
// (VkDevice or VkInstance), so every object is destroyed exactly once, in reverse order of
// declaration by its owning class.

#include <vulkan/vulkan.h>

#include <utility>

namespace vkllm::vk {

template <typename Handle, typename Deleter>
class UniqueHandle {
  public:
    UniqueHandle() = default;
    UniqueHandle(Handle handle, Deleter deleter) : handle_(handle), deleter_(std::move(deleter)) {}
    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;
    UniqueHandle(UniqueHandle&& other) noexcept
        : handle_(std::exchange(other.handle_, Handle{})), deleter_(std::move(other.deleter_)) {}
    UniqueHandle& operator=(UniqueHandle&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, Handle{});
            deleter_ = std::move(other.deleter_);
        }
        return *this;
    }
    ~UniqueHandle() { reset(); }

    Handle get() const { return handle_; }
    explicit operator bool() const { return handle_ != Handle{}; }
    void reset() {
        if (handle_ != Handle{}) deleter_(std::exchange(handle_, Handle{}));
    }

  private:
    Handle handle_{};
    Deleter deleter_{};
};

// Deleter for objects created from a VkDevice with vkDestroyX(device, handle, allocator).
template <typename Handle, void (*Destroy)(VkDevice, Handle, const VkAllocationCallbacks*)>
struct DeviceDeleter {
    VkDevice device = VK_NULL_HANDLE;
    void operator()(Handle h) const { Destroy(device, h, nullptr); }
};

template <typename Handle, void (*Destroy)(VkDevice, Handle, const VkAllocationCallbacks*)>
using DeviceHandle = UniqueHandle<Handle, DeviceDeleter<Handle, Destroy>>;

template <typename Handle, void (*Destroy)(VkDevice, Handle, const VkAllocationCallbacks*)>
DeviceHandle<Handle, Destroy> make_device_handle(VkDevice device, Handle h) {
    return DeviceHandle<Handle, Destroy>(h, DeviceDeleter<Handle, Destroy>{device});
}

}  // namespace vkllm::vk
