#include "runtime/vk/context.h"

namespace vkllm::vk {
namespace {

InstanceOptions instance_options(ContextOptions& o) {
    return InstanceOptions{o.validation, o.sink};
}

}  // namespace

Context::Context(ContextOptions options)
    : instance_(instance_options(options)),
      device_(instance_, select_device(instance_, options.device), options.limits),
      pipelines_(device_, options.pipeline_cache_dir),
      device_arena_(device_, MemoryIntent::DeviceLocal),
      transfer_(device_) {}

}  // namespace vkllm::vk
