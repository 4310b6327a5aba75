#include "runtime/vk/context.h"

namespace vkllm::vk {
namespace {

InstanceOptions instance_options(ContextOptions& o) {
    return InstanceOptions{o.validation, o.sink};
}

// The selected device, presented as the requested profile when there is one.
DeviceInfo device_for(const Instance& instance, const ContextOptions& o) {
    DeviceInfo info = select_device(instance, o.device);
    const std::optional<DeviceProfile> profile = o.profile ? o.profile : device_profile_from_env();
    return profile ? apply_device_profile(info, *profile) : info;
}

}  // namespace

Context::Context(ContextOptions options)
    : instance_(instance_options(options)),
      device_(instance_, device_for(instance_, options), options.limits,
              options.capture_pipeline_statistics),
      pipelines_(device_, options.pipeline_cache_dir),
      device_arena_(device_, MemoryIntent::DeviceLocal),
      transfer_(device_) {}

}  // namespace vkllm::vk
