#pragma once
// Replacement policies for a MoE expert cache, and a replay of recorded routing through them
// (issue #15, docs/design/moe-streaming.md). Pure host logic: the device cache will ask the
// policy which expert to evict; the replay picks the policy on real routing traces
// (Gemma4Model::last_step_routing()).
//
// The cache is one pool of slots shared by every layer. A step visits the layers in order; at
// each layer the experts it routes there are pinned (they are needed at once) and looked up; a
// miss evicts an unpinned expert chosen by the policy.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vkllm {

enum class ExpertEviction {
    Lru,    // least recently used
    Lfu,    // least frequently used (lifetime counts; ties to the least recent)
    Decay,  // least decayed frequency: f <- f * 0.5^(steps since last use / half_life) + 1,
            // a staleness-weighted frequency (LFRU-like)
    // The expert whose next use is predicted furthest away, from the layer cycle and its use
    // rate: a step visits layers in order, so an expert of layer m is next needed at layer m of
    // this step or a later one, after about 1 / rate steps (rate = uses per step seen so far).
    NextUse,
    Belady,  // the expert next used furthest in the future: the offline optimum, a bound
};

std::string_view eviction_name(ExpertEviction policy);
std::span<const ExpertEviction> all_evictions();

// One step's routing: per layer, the experts it routes (repeats allowed; empty = dense layer).
using RoutingStep = std::vector<std::vector<uint32_t>>;

struct ExpertReplayStats {
    uint64_t lookups = 0;  // distinct experts per layer per step
    uint64_t hits = 0;
    double hit_rate() const {
        return lookups ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0;
    }
};

// Replays `trace` through a cache of `slots` experts (the cache starts empty, so the first use of
// every expert misses). `half_life_steps` tunes Decay. Throws std::invalid_argument when a layer
// of a step routes more distinct experts than there are slots (the device cache streams those in
// waves; the replay does not model that).
ExpertReplayStats replay_expert_cache(ExpertEviction policy, uint64_t slots,
                                      std::span<const RoutingStep> trace, uint32_t n_expert,
                                      double half_life_steps = 8.0);

}  // namespace vkllm
