#include "tests/support/vk_test_env.h"

#include <cstdlib>

namespace vkllm::test {

void ValidationLog::add(const std::string& message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(message);
}

std::vector<std::string> ValidationLog::take() {
    std::lock_guard lock(mutex_);
    return std::exchange(messages_, {});
}

namespace {

std::unique_ptr<VkEnv> create_env(vk::LimitOverrides limits, std::string* error) {
    auto env = std::make_unique<VkEnv>();
    vk::ContextOptions o;
    const char* dev = std::getenv("VKLLM_TEST_DEVICE");
    o.device = dev ? dev : "";
    o.validation = std::getenv("VKLLM_TEST_NO_VALIDATION") == nullptr;
    ValidationLog* log = &env->log;
    o.sink = [log](vk::MessageSeverity, const std::string& m) { log->add(m); };
    o.limits = limits;
    o.pipeline_cache_dir = "none";
    try {
        env->context = std::make_unique<vk::Context>(std::move(o));
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return nullptr;
    }
    return env;
}

}  // namespace

VkEnv* shared_vk_env(std::string* skip_reason) {
    static std::string error;
    static std::unique_ptr<VkEnv> env = create_env({}, &error);
    if (!env && skip_reason) *skip_reason = "no usable Vulkan device: " + error;
    return env.get();
}

std::unique_ptr<VkEnv> make_vk_env(vk::LimitOverrides limits) {
    std::string error;
    auto env = create_env(limits, &error);
    if (!env) ADD_FAILURE() << "cannot create a Vulkan context: " << error;
    return env;
}

void VkTest::SetUp() {
    std::string reason;
    env_ = shared_vk_env(&reason);
    if (!env_) {
        // CI installs lavapipe, so a missing device there is a broken set-up, not a skip.
        if (std::getenv("VKLLM_TEST_REQUIRE_DEVICE")) FAIL() << reason;
        GTEST_SKIP() << reason;
    }
    env_->log.take();
}

void VkTest::TearDown() {
    if (!env_) return;
    for (const std::string& m : env_->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

}  // namespace vkllm::test
