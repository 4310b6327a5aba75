#include "runtime/model/expert_cache.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "quant/device_layout.h"
#include "runtime/model/memory_plan.h"

namespace vkllm {

namespace {

constexpr uint32_t k_none = UINT32_MAX;
// Half-life of an expert's use rate, in its layer's steps (chosen on routing traces, 1-32 tried:
// docs/design/moe-streaming.md).
constexpr double k_half_life_steps = 8.0;

}  // namespace

bool cpu_beats_upload(const ExpertMissCost& cost, uint64_t bytes, uint32_t tokens) {
    const double b = static_cast<double>(bytes);
    return b * (cost.cpu_fixed_per_byte + cost.cpu_per_byte_token * tokens) <
           b * cost.upload_per_byte;
}

ExpertCache::ExpertCache(vk::Context& ctx, vk::Arena& arena, const GgufFile& file,
                         const Gemma4Config& cfg, const Gemma4WeightsView& view, uint32_t slots,
                         vk::BufferSpan staging, DeviceWeights& w)
    : ctx_(ctx), file_(file), staging_(staging), n_expert_(cfg.n_expert), slots_(slots) {
    if (staging.mapped == nullptr) {
        throw std::invalid_argument("[expert cache] the staging buffer is not mapped");
    }
    if (slots == 0 || slots >= cfg.n_expert) {
        throw std::invalid_argument("[expert cache] " + std::to_string(slots) +
                                    " slots for a layer of " + std::to_string(cfg.n_expert) +
                                    " experts");
    }
    const vk::EffectiveLimits& lim = ctx.device().limits();
    const uint64_t cap = std::min(lim.max_binding_bytes, lim.max_allocation_bytes);
    layers_.resize(cfg.n_layer);
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        if (!cfg.layers[l].is_moe) continue;
        const Gemma4LayerWeights& s = view.layers[l];
        DeviceLayerWeights& d = w.layers[l];
        Layer& L = layers_[l];
        for (const auto& [t, m] : {std::pair{s.ffn_gate_up_exps, &d.ffn_gate_up_exps},
                                   std::pair{s.ffn_gate_exps, &d.ffn_gate_exps},
                                   std::pair{s.ffn_up_exps, &d.ffn_up_exps},
                                   std::pair{s.ffn_down_exps, &d.ffn_down_exps}}) {
            if (t == nullptr) continue;
            Pool p{t, m, t->size_bytes / t->ne[2], 0};
            const std::string name = "[expert cache] layer " + std::to_string(l) + ": ";
            if (p.expert_bytes > std::min(cap, staging.size)) {
                throw std::runtime_error(name + "one expert of " + t->name + " takes " +
                                         std::to_string(p.expert_bytes) +
                                         " bytes, more than a binding or the staging holds");
            }
            // Slots start at multiples of an expert's bytes from their part's start; the
            // device layout of a grouped type must then start a group there too.
            if (p.expert_bytes % quant::layout_group_bytes(t->type) != 0) {
                throw std::runtime_error(name + "one expert of " + t->name +
                                         " does not end on a device-layout group of its type (" +
                                         std::string(traits_of(t->type).name) +
                                         "), so it cannot be cached by itself; run without "
                                         "--vram-budget");
            }
            p.slots_per_part = std::max<uint64_t>(1, cap / p.expert_bytes);
            const uint64_t rows_per_expert = t->ne[1];
            const uint64_t row_bytes = p.expert_bytes / rows_per_expert;
            m->type = t->type;
            m->K = static_cast<uint32_t>(t->ne[0]);
            m->rows = static_cast<uint32_t>(rows_per_expert * slots);
            m->data = {};
            m->data.row_bytes = row_bytes;
            m->data.rows = uint64_t{m->rows};
            m->data.rows_per_part = p.slots_per_part * rows_per_expert;
            for (uint64_t first = 0; first < slots; first += p.slots_per_part) {
                const uint64_t n = std::min<uint64_t>(p.slots_per_part, slots - first);
                m->data.parts.push_back(arena.allocate(n * p.expert_bytes));
            }
            L.pools.push_back(p);
        }
        L.slot_expert.assign(slots, k_none);
        L.expert_slot.assign(cfg.n_expert, k_none);
        L.decayed.assign(cfg.n_expert, 0.0);
        L.last_step.assign(cfg.n_expert, 0);
        L.last_use.assign(cfg.n_expert, 0);
        L.prefetched.assign(cfg.n_expert, false);
    }
}

uint32_t ExpertCache::route(uint32_t layer, std::span<const uint32_t> ids) {
    if (layer >= layers_.size() || layers_[layer].pools.empty()) {
        throw std::logic_error("[expert cache] layer " + std::to_string(layer) + " has no experts");
    }
    Layer& L = layers_[layer];
    ++L.step;
    ++stats_.layer_steps;
    cur_layer_ = layer;
    cur_ids_.assign(ids.begin(), ids.end());
    staged_ = 0;
    // Distinct experts in first-routed order; the cached ones first (no upload, first wave).
    std::vector<uint32_t> hits, misses;
    std::vector<bool> seen(n_expert_, false);
    for (const uint32_t e : ids) {
        if (e >= n_expert_) {
            throw std::runtime_error("[expert cache] layer " + std::to_string(layer) +
                                     " routed expert " + std::to_string(e) + " of " +
                                     std::to_string(n_expert_));
        }
        if (seen[e]) continue;
        seen[e] = true;
        L.decayed[e] = rate_now(L, e) + 1.0;
        L.last_step[e] = L.step;
        L.last_use[e] = ++clock_;
        (L.expert_slot[e] != k_none ? hits : misses).push_back(e);
        if (L.prefetched[e]) {
            ++stats_.prefetch_used;
            L.prefetched[e] = false;
        }
    }
    stats_.lookups += hits.size() + misses.size();
    stats_.hits += hits.size();
    cur_cpu_.clear();
    if (mode_ != ExpertCompute::Gpu && !misses.empty()) {
        std::vector<uint32_t> tokens(n_expert_, 0);
        for (const uint32_t e : ids) ++tokens[e];
        // The coldest expert the misses could evict (not routed now), and free slots.
        double coldest = std::numeric_limits<double>::infinity();
        uint32_t free_slots = 0;
        for (const uint32_t v : L.slot_expert) {
            if (v == k_none) {
                ++free_slots;
            } else if (!seen[v]) {
                coldest = std::min(coldest, rate_now(L, v));
            }
        }
        uint64_t bytes = 0;
        for (const Pool& p : L.pools) bytes += p.expert_bytes;
        std::vector<uint32_t> upload;
        uint32_t cpu_pairs = 0;
        for (const uint32_t e : misses) {
            bool cpu = mode_ == ExpertCompute::Cpu;
            if (mode_ == ExpertCompute::Auto) {
                // Kept only if hotter than what it would evict; else the cheaper way.
                const bool kept = free_slots > 0 || L.decayed[e] > coldest;
                cpu = !kept && cpu_beats_upload(cost_, bytes, tokens[e]);
            }
            cpu = cpu && cpu_pairs + tokens[e] <= k_cpu_expert_pairs;  // the outputs' buffer
            if (cpu) cpu_pairs += tokens[e];
            if (!cpu && free_slots > 0) --free_slots;
            (cpu ? cur_cpu_ : upload).push_back(e);
        }
        misses = std::move(upload);
        stats_.cpu_experts += cur_cpu_.size();
    }
    cur_waves_.assign(1, hits);
    for (const uint32_t e : misses) {
        if (cur_waves_.back().size() == slots_) cur_waves_.emplace_back();
        cur_waves_.back().push_back(e);
    }
    return static_cast<uint32_t>(cur_waves_.size());
}

std::vector<uint32_t> ExpertCache::load_wave(uint32_t wave, vk::CommandStream& cs) {
    if (wave >= cur_waves_.size()) throw std::logic_error("[expert cache] no such wave");
    Layer& L = layers_[cur_layer_];
    const std::vector<uint32_t>& members = cur_waves_[wave];
    std::vector<bool> pinned(slots_, false);
    for (const uint32_t e : members) {
        if (L.expert_slot[e] != k_none) pinned[L.expert_slot[e]] = true;
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (const uint32_t e : members) {
        if (L.expert_slot[e] != k_none) continue;
        double rate = 0;
        const uint32_t slot = victim(L, pinned, rate);
        if (slot == k_none) throw std::logic_error("[expert cache] a wave exceeds the slots");
        install(L, e, slot, cs);
        pinned[slot] = true;
    }
    stats_.upload_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++stats_.waves;
    std::vector<bool> in_wave(n_expert_, false);
    for (const uint32_t e : members) in_wave[e] = true;
    std::vector<uint32_t> out(cur_ids_.size());
    for (size_t i = 0; i < cur_ids_.size(); ++i) {
        out[i] = in_wave[cur_ids_[i]] ? L.expert_slot[cur_ids_[i]] : k_skip;
    }
    return out;
}

void ExpertCache::upload(Layer& L, uint32_t expert, uint32_t slot, vk::CommandStream& cs) {
    for (const Pool& p : L.pools) {
        if (staged_ + p.expert_bytes > staging_.size) {
            cs.sync();  // the staged copies have run: the staging is free again
            staged_ = 0;
        }
        const vk::BufferSpan& part = p.matrix->data.parts.at(slot / p.slots_per_part);
        const uint64_t offset = (slot % p.slots_per_part) * p.expert_bytes;
        const std::span<const std::byte> src =
            file_.data(*p.tensor).subspan(expert * p.expert_bytes, p.expert_bytes);
        quant::to_device_layout(p.tensor->type, src,
                                std::span(staging_.mapped + staged_, p.expert_bytes));
        cs.copy(staging_.sub(staged_, p.expert_bytes), part.sub(offset, p.expert_bytes));
        staged_ = (staged_ + p.expert_bytes + 15) / 16 * 16;
        stats_.upload_bytes += p.expert_bytes;
    }
    ++stats_.uploads;
}

double ExpertCache::rate_now(const Layer& L, uint32_t e) {
    static const double decay = std::pow(0.5, 1.0 / k_half_life_steps);
    return L.decayed[e] * std::pow(decay, static_cast<double>(L.step - L.last_step[e]));
}

void ExpertCache::install(Layer& L, uint32_t expert, uint32_t slot, vk::CommandStream& cs) {
    if (L.slot_expert[slot] != k_none) {
        L.expert_slot[L.slot_expert[slot]] = k_none;
        L.prefetched[L.slot_expert[slot]] = false;
    }
    L.slot_expert[slot] = k_none;
    upload(L, expert, slot, cs);
    L.slot_expert[slot] = expert;
    L.expert_slot[expert] = slot;
}

uint32_t ExpertCache::victim(const Layer& L, const std::vector<bool>& pinned, double& rate) const {
    uint32_t best = k_none;
    rate = 0;
    for (uint32_t s = 0; s < slots_; ++s) {
        if (pinned[s]) continue;
        const uint32_t v = L.slot_expert[s];
        if (v == k_none) {
            rate = 0;
            return s;
        }
        const double r = rate_now(L, v);
        const uint32_t cur = best == k_none ? k_none : L.slot_expert[best];
        if (best == k_none || r < rate ||
            (r == rate &&
             (L.last_use[v] < L.last_use[cur] || (L.last_use[v] == L.last_use[cur] && v < cur)))) {
            best = s;
            rate = r;
        }
    }
    return best;
}

uint64_t ExpertCache::layer_expert_bytes(const Layer& L) const {
    uint64_t bytes = 0;
    for (const Pool& p : L.pools) bytes += (p.expert_bytes + 15) / 16 * 16;
    return bytes;
}

void ExpertCache::prefetch(uint32_t layer, std::span<const uint32_t> ids, vk::CommandStream& cs) {
    if (layer >= layers_.size() || layers_[layer].pools.empty()) {
        throw std::logic_error("[expert cache] layer " + std::to_string(layer) + " has no experts");
    }
    Layer& L = layers_[layer];
    std::vector<bool> pinned(slots_, false), seen(n_expert_, false);
    for (const uint32_t e : ids) {  // keep what the forecast already finds cached
        if (e < n_expert_ && L.expert_slot[e] != k_none) pinned[L.expert_slot[e]] = true;
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (const uint32_t e : ids) {
        if (e >= n_expert_ || seen[e] || L.expert_slot[e] != k_none) continue;
        seen[e] = true;
        if (staged_ + layer_expert_bytes(L) > staging_.size) break;  // prefetch never syncs
        double rate = 0;
        const uint32_t s = victim(L, pinned, rate);
        // As if used now (its rate + 1): kept only if that beats the expert it would evict.
        const double mine = rate_now(L, e) + 1.0;
        if (s == k_none || (L.slot_expert[s] != k_none && mine <= rate)) continue;
        install(L, e, s, cs);
        L.prefetched[e] = true;
        pinned[s] = true;
        ++stats_.prefetched;
    }
    stats_.upload_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<uint32_t> ExpertCache::cached(uint32_t layer) const {
    return layers_.at(layer).slot_expert;
}

}  // namespace vkllm
