// Expert-cache replacement policies and their replay (expert_cache_policy.h).
#include "runtime/model/expert_cache_policy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace vkllm {
namespace {

constexpr std::array<ExpertEviction, 5> k_all = {ExpertEviction::Lru, ExpertEviction::Lfu,
                                                 ExpertEviction::Decay, ExpertEviction::NextUse,
                                                 ExpertEviction::Belady};

// A key's uses so far.
struct Entry {
    uint64_t last_use = 0;   // lookup clock
    uint64_t last_step = 0;  // step of the last use
    uint64_t count = 0;
    double decayed = 0.0;
    uint64_t next = UINT64_MAX;  // index of its next lookup after the last (Belady)
};

// Every (step, layer, expert) lookup in order, keyed layer * n_expert + expert, with the index of
// the key's next lookup (for Belady).
struct Lookups {
    std::vector<uint64_t> keys;
    std::vector<uint64_t> steps;
    std::vector<uint64_t> next;       // index of the next lookup of the same key, or SIZE_MAX
    std::vector<uint64_t> layer_end;  // lookups [i, layer_end[i]) share a step and layer
};

Lookups flatten(std::span<const RoutingStep> trace, uint32_t n_expert, uint64_t slots) {
    Lookups L;
    for (uint64_t s = 0; s < trace.size(); ++s) {
        for (uint64_t l = 0; l < trace[s].size(); ++l) {
            std::vector<uint32_t> ids = trace[s][l];
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            if (ids.size() > slots) {
                throw std::invalid_argument(
                    "[expert cache] step " + std::to_string(s) + " layer " + std::to_string(l) +
                    " routes " + std::to_string(ids.size()) + " distinct experts, more than the " +
                    std::to_string(slots) + " slots");
            }
            const uint64_t begin = L.keys.size();
            for (uint32_t e : ids) {
                if (e >= n_expert) throw std::invalid_argument("[expert cache] expert id too big");
                L.keys.push_back(l * n_expert + e);
                L.steps.push_back(s);
            }
            L.layer_end.resize(L.keys.size(), L.keys.size());
            for (uint64_t i = begin; i < L.keys.size(); ++i) L.layer_end[i] = L.keys.size();
        }
    }
    L.next.assign(L.keys.size(), UINT64_MAX);
    std::unordered_map<uint64_t, uint64_t> seen;
    for (uint64_t i = L.keys.size(); i-- > 0;) {
        const auto it = seen.find(L.keys[i]);
        if (it != seen.end()) L.next[i] = it->second;
        seen[L.keys[i]] = i;
    }
    return L;
}

}  // namespace

std::string_view eviction_name(ExpertEviction policy) {
    switch (policy) {
        case ExpertEviction::Lru:
            return "lru";
        case ExpertEviction::Lfu:
            return "lfu";
        case ExpertEviction::Decay:
            return "decayed-frequency";
        case ExpertEviction::NextUse:
            return "predicted-next-use";
        case ExpertEviction::Belady:
            return "belady (offline optimum)";
    }
    return "?";
}

std::span<const ExpertEviction> all_evictions() {
    return k_all;
}

ExpertReplayStats replay_expert_cache(ExpertEviction policy, uint64_t slots,
                                      std::span<const RoutingStep> trace, uint32_t n_expert,
                                      double half_life_steps) {
    if (slots == 0) throw std::invalid_argument("[expert cache] no slots");
    const Lookups L = flatten(trace, n_expert, slots);
    std::unordered_map<uint64_t, bool> cached;    // key -> pinned by the current layer
    std::unordered_map<uint64_t, Entry> history;  // every key's uses; counts survive eviction
    const double decay_per_step = std::pow(0.5, 1.0 / half_life_steps);
    uint64_t n_layers = 1;
    for (const RoutingStep& s : trace) n_layers = std::max<uint64_t>(n_layers, s.size());
    ExpertReplayStats st;
    for (uint64_t i = 0; i < L.keys.size();) {
        const uint64_t end = L.layer_end[i], step = L.steps[i];
        for (uint64_t j = i; j < end; ++j) {  // pin the layer's set that is already cached
            if (const auto it = cached.find(L.keys[j]); it != cached.end()) it->second = true;
        }
        for (uint64_t j = i; j < end; ++j) {
            const uint64_t key = L.keys[j];
            ++st.lookups;
            Entry& h = history[key];
            h.decayed =
                h.decayed * std::pow(decay_per_step, static_cast<double>(step - h.last_step)) + 1.0;
            h.count += 1;
            h.last_step = step;
            h.last_use = j;
            h.next = L.next[j];
            if (cached.count(key) != 0) {
                ++st.hits;
                continue;
            }
            if (cached.size() == slots) {
                uint64_t victim = UINT64_MAX;
                double worst = std::numeric_limits<double>::infinity();
                for (const auto& [k, pinned] : cached) {
                    if (pinned) continue;
                    const Entry& e = history.at(k);
                    const double decayed_now =
                        e.decayed *
                        std::pow(decay_per_step, static_cast<double>(step - e.last_step));
                    double score = 0.0;  // lowest is evicted
                    switch (policy) {
                        case ExpertEviction::Lru:
                            score = static_cast<double>(e.last_use);
                            break;
                        case ExpertEviction::Lfu:
                            score = static_cast<double>(e.count) * 1e12 +
                                    static_cast<double>(e.last_use);
                            break;
                        case ExpertEviction::Decay:
                            score = decayed_now;
                            break;
                        case ExpertEviction::NextUse: {
                            // Lookups-in-layers until the next use: the gap to its layer in the
                            // cycle, plus whole steps for a use rate below one per step (uses per
                            // step, recent steps weighing more).
                            const uint64_t layer = k / n_expert, cur = key / n_expert;
                            const uint64_t gap = (layer + n_layers - cur - 1) % n_layers + 1;
                            const double rate =
                                std::max(1e-3, decayed_now * (1.0 - decay_per_step));
                            score = -(static_cast<double>(gap) +
                                      static_cast<double>(n_layers) * (1.0 / rate - 1.0));
                            break;
                        }
                        case ExpertEviction::Belady:
                            score = -static_cast<double>(e.next);
                            break;
                    }
                    if (score < worst || (score == worst && k < victim)) {
                        worst = score;
                        victim = k;
                    }
                }
                cached.erase(victim);
            }
            cached[key] = true;
        }
        for (uint64_t j = i; j < end; ++j) cached[L.keys[j]] = false;
        i = end;
    }
    return st;
}

}  // namespace vkllm
