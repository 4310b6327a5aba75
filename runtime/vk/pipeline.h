#pragma once
// Compute pipelines: one embedded SPIR-V module + specialization constants (workgroup and tile
// sizes, feature flags) + a push-constant block + N storage-buffer bindings pushed per dispatch
// (VK_KHR_push_descriptor, so there are no descriptor pools to manage).

#include <vulkan/vulkan.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/vk/device.h"

namespace vkllm::vk {

struct PipelineDesc {
    std::string module;          // shader registry name, e.g. "matvec_q4_k"
    std::vector<uint32_t> spec;  // constant_id i = spec[i] (floats passed as their bits)
    uint32_t push_bytes = 0;     // size of the shader's push-constant block
    uint32_t bindings = 0;       // storage buffers at binding 0..bindings-1

    std::string key() const;
};

// One statistic a driver reports for a pipeline executable (e.g. NVIDIA's register count, a
// spill size), formatted as text.
struct PipelineStatistic {
    std::string executable;  // the executable's name (one per shader stage or variant)
    std::string name;
    std::string value;
};

class Pipeline {
  public:
    Pipeline(const Device& device, VkPipelineCache cache, const PipelineDesc& desc);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    VkPipeline get() const { return pipeline_; }
    VkPipelineLayout layout() const { return layout_; }
    const PipelineDesc& desc() const { return desc_; }
    // Empty unless the device captures statistics (Device::captures_pipeline_statistics).
    std::vector<PipelineStatistic> statistics() const;

  private:
    const Device& device_;  // borrowed
    PipelineDesc desc_;
    // Owned, destroyed in reverse order.
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
};

// Where vkllm keeps what it learns about a machine: $VKLLM_CACHE_DIR, else $XDG_CACHE_HOME/vkllm,
// else ~/.cache/vkllm; empty when none of them is set. "none" (from $VKLLM_CACHE_DIR) means
// nothing is kept.
std::filesystem::path default_cache_dir();

// VkPipelineCache persisted to disk, so a second start does not recompile every kernel. The file
// is named by vendor, device, driver and pipelineCacheUUID, so a driver update starts clean.
class PipelineCache {
  public:
    // `dir` empty: $VKLLM_CACHE_DIR, else $XDG_CACHE_HOME/vkllm, else ~/.cache/vkllm; "none"
    // disables persistence.
    PipelineCache(const Device& device, std::filesystem::path dir);
    ~PipelineCache();  // saves
    PipelineCache(const PipelineCache&) = delete;
    PipelineCache& operator=(const PipelineCache&) = delete;

    VkPipelineCache get() const { return cache_; }
    void save() const;  // atomic write (temp file + rename); failures are ignored with a warning
    const std::filesystem::path& path() const { return path_; }
    bool loaded_from_disk() const { return loaded_bytes_ > 0; }

    // Get-or-create by description key.
    const Pipeline& get(const PipelineDesc& desc);
    size_t pipeline_count() const { return pipelines_.size(); }
    // Every pipeline created so far, in key order.
    std::vector<const Pipeline*> all() const;

  private:
    const Device& device_;  // borrowed
    std::filesystem::path path_;
    size_t loaded_bytes_ = 0;
    VkPipelineCache cache_ = VK_NULL_HANDLE;                      // owned
    std::map<std::string, std::unique_ptr<Pipeline>> pipelines_;  // owned, destroyed first
};

}  // namespace vkllm::vk
