#pragma once
// One Vulkan context per test process, on lavapipe (or $VKLLM_TEST_DEVICE), with the Khronos
// validation layer on. Every validation message is recorded; VkTest fails any test that
// produced one. Limits are shrunk (VKLLM_TEST_MAX_BINDING_BYTES, default 128 MiB) only in tests
// that ask for a separate small-limit context.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::test {

class ValidationLog {
  public:
    void add(const std::string& message);
    std::vector<std::string> take();

  private:
    std::mutex mutex_;
    std::vector<std::string> messages_;
};

struct VkEnv {
    ValidationLog log;
    std::unique_ptr<vk::Context> context;
};

// Process-wide shared context with default limits; nullptr (and a skip reason) if no device.
VkEnv* shared_vk_env(std::string* skip_reason);

// A fresh context whose binding and allocation limits are shrunk (exercises split tensors).
std::unique_ptr<VkEnv> make_vk_env(vk::LimitOverrides limits);

// Base fixture: skips with the reason when there is no usable device, and fails the test when the
// validation layer said anything during it.
class VkTest : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;
    vk::Context& ctx() { return *env_->context; }
    VkEnv* env_ = nullptr;
};

}  // namespace vkllm::test
