#pragma once
// The top-level owner of the Vulkan core: instance -> device -> pipeline cache -> memory and
// transfers. Everything else borrows from it, so destruction order is declaration order reversed.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "runtime/vk/arena.h"
#include "runtime/vk/device.h"
#include "runtime/vk/device_profile.h"
#include "runtime/vk/instance.h"
#include "runtime/vk/pipeline.h"
#include "runtime/vk/transfer.h"

namespace vkllm::vk {

struct ContextOptions {
    std::string device;  // --device: "" (best), an index, or part of the name
    bool validation = false;
    MessageSink sink;  // validation messages
    LimitOverrides limits;
    std::filesystem::path pipeline_cache_dir;  // "" default location, "none" off
    // Present the device as this GPU (device_profile.h); unset: VKLLM_DEVICE_PROFILE, if set.
    std::optional<DeviceProfile> profile;
    // Capture per-pipeline driver statistics where supported (Pipeline::statistics; benchmarks).
    bool capture_pipeline_statistics = false;
};

class Context {
  public:
    explicit Context(ContextOptions options);

    const Device& device() const { return device_; }
    PipelineCache& pipelines() { return pipelines_; }
    Transfer& transfer() { return transfer_; }
    // Long-lived device memory (weights, KV cache).
    Arena& device_arena() { return device_arena_; }

  private:
    Instance instance_;
    Device device_;
    PipelineCache pipelines_;
    Arena device_arena_;
    Transfer transfer_;
};

}  // namespace vkllm::vk
