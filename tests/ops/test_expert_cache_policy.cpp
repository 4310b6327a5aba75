// Expert-cache replacement policies (runtime/model/expert_cache_policy.h) on hand-made traces
// whose best answer is known, and the offline optimum bounding the others on random traces.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/model/expert_cache_policy.h"

namespace vkllm {
namespace {

// One layer, one expert per step.
std::vector<RoutingStep> single_layer(const std::vector<uint32_t>& ids) {
    std::vector<RoutingStep> t;
    for (uint32_t e : ids) t.push_back({{e}});
    return t;
}

TEST(ExpertCachePolicy, CyclicScanDefeatsLruNotTheOptimum) {
    // 3 experts in a loop through 2 slots: LRU always evicts the next one needed.
    const auto t = single_layer({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
    EXPECT_EQ(replay_expert_cache(ExpertEviction::Lru, 2, t, 3).hits, 0u);
    EXPECT_GE(replay_expert_cache(ExpertEviction::Belady, 2, t, 3).hits, 4u);
}

TEST(ExpertCachePolicy, FrequencyKeepsAHotExpertThatRecencyDrops) {
    // Expert 0 every third step, two cold experts in between, 2 slots: LRU evicts 0 before it
    // returns; LFU and the decayed frequency keep it once it is the most used (its first return
    // misses: until then it ties with the cold experts and is the least recent).
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < 20; ++i) ids.insert(ids.end(), {0, 10 + 2 * i, 11 + 2 * i});
    const auto t = single_layer(ids);
    EXPECT_EQ(replay_expert_cache(ExpertEviction::Lru, 2, t, 64).hits, 0u);
    EXPECT_EQ(replay_expert_cache(ExpertEviction::Lfu, 2, t, 64).hits, 18u);
    EXPECT_EQ(replay_expert_cache(ExpertEviction::Decay, 2, t, 64).hits, 18u);
    EXPECT_EQ(replay_expert_cache(ExpertEviction::Belady, 2, t, 64).hits, 19u);
}

TEST(ExpertCachePolicy, OptimumBoundsEveryPolicyOnRandomSkewedTraces) {
    std::mt19937 rng(5);
    for (const uint64_t slots : {8u, 16u, 40u}) {
        std::vector<RoutingStep> t;
        for (int s = 0; s < 200; ++s) {
            RoutingStep step(4);
            for (auto& layer : step) {
                for (int j = 0; j < 4; ++j) {
                    // Zipf-like: expert e with weight 1 / (e + 1).
                    std::discrete_distribution<uint32_t> d(
                        {16, 8, 5, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1});
                    layer.push_back(d(rng));
                }
            }
            t.push_back(step);
        }
        const ExpertReplayStats best = replay_expert_cache(ExpertEviction::Belady, slots, t, 16);
        for (ExpertEviction p : all_evictions()) {
            const ExpertReplayStats s = replay_expert_cache(p, slots, t, 16);
            EXPECT_EQ(s.lookups, best.lookups);
            EXPECT_LE(s.hits, best.hits) << eviction_name(p) << " at " << slots << " slots";
        }
        // Everything fits: only the first use of each expert misses.
        const ExpertReplayStats all = replay_expert_cache(ExpertEviction::Lru, 64, t, 16);
        EXPECT_LE(all.lookups - all.hits, 64u);
    }
}

TEST(ExpertCachePolicy, RefusesALayerWiderThanTheCache) {
    const std::vector<RoutingStep> t = {{{1, 2, 3}}};
    EXPECT_THROW(replay_expert_cache(ExpertEviction::Lru, 2, t, 8), std::invalid_argument);
    EXPECT_NO_THROW(replay_expert_cache(ExpertEviction::Lru, 3, t, 8));
    const std::vector<RoutingStep> bad = {{{9}}};
    EXPECT_THROW(replay_expert_cache(ExpertEviction::Lru, 3, bad, 8), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
