#pragma once
// The measured costs of an expert-cache miss (ExpertCache::CpuCost: uploading it, or computing it
// on the CPU) kept across runs, so a machine is measured once (issue #15). One line per key in
// <cache dir>/expert-costs.txt (vk::default_cache_dir(); nothing is kept when that is "none" or
// unset). The key names the device, its driver and the expert tensors' types and shapes.

#include <optional>
#include <string>

#include "runtime/model/expert_cache.h"

namespace vkllm {

std::optional<ExpertCache::CpuCost> load_expert_costs(const std::string& key);
// Appends (or replaces) the line of `key`; failures to write are ignored (the costs are only
// measured again next time).
void save_expert_costs(const std::string& key, const ExpertCache::CpuCost& cost);

}  // namespace vkllm
