#pragma once
// The device expert cache of a MoE model whose experts do not fit its VRAM budget (issue #15,
// docs/design/moe-streaming.md). Every MoE layer owns `slots` slots of each of its expert
// tensors (gate_up or gate and up, and down), allocated as a DeviceMatrix of slots x the rows of
// one expert in the layer's own quant type: the expert kernels read it as a stack of `slots`
// experts, given each (token, expert) pair's slot in place of the expert id, so a cached expert
// is computed by the same kernel on the same bytes as a resident one (bit-identical results).
//
// A step routes a layer, reads the ids back (the stream syncs) and asks route() how many waves
// it needs: one when the layer's distinct experts fit its slots, more when a prefill batch
// routes more experts than there are slots. load_wave() stages a wave's missing experts from the
// mapped GGUF (no copy of the model in host memory: each is written once, in the device layout,
// into host-visible staging) and records their copies into the slots on the compute stream,
// then returns the slot of every pair of that wave (k_skip for the others, which the kernels
// skip). The stream's hazard tracking orders a wave's copies after the previous wave's kernels
// that read those slots, so waves need no sync; only a staging buffer that fills up does. A
// miss evicts the unpinned expert with the lowest use rate (uses decayed with a half-life of 8
// of the layer's steps; ties: least recently used, then lowest id), the policy the routing
// traces of the trained MoE model chose (expert_cache_policy.h).

#include <cstdint>
#include <span>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/model_weights.h"
#include "runtime/vk/arena.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm {

class ExpertCache;

// Whether computing one expert of `bytes` for `tokens` tokens on the CPU costs less than
// uploading it, by the measured per-byte costs (ExpertCache::CpuCost).
struct ExpertMissCost {
    double upload_per_byte = 0;
    double cpu_fixed_per_byte = 0;  // reading and decoding the weights once
    double cpu_per_byte_token = 0;  // the products, per token
};
bool cpu_beats_upload(const ExpertMissCost& cost, uint64_t bytes, uint32_t tokens);

class ExpertCache {
  public:
    static constexpr uint32_t k_skip = UINT32_MAX;  // a pair outside the current wave

    // Allocates the slots of every MoE layer's expert tensors from `arena` and points w's expert
    // matrices at them (empty until loaded); `staging` (host-visible, mapped) holds at least one
    // expert of any tensor. Throws std::runtime_error when an expert does not start on a
    // device-layout group (quant/device_layout.h) or one expert exceeds a binding or the staging.
    ExpertCache(vk::Context& ctx, vk::Arena& arena, const GgufFile& file, const Gemma4Config& cfg,
                const Gemma4WeightsView& view, uint32_t slots, vk::BufferSpan staging,
                DeviceWeights& w);

    uint32_t slots() const { return slots_; }

    // What a miss costs each way, measured on this machine (seconds): uploading one expert, or
    // computing it on the CPU for m tokens (a + b m).
    using CpuCost = ExpertMissCost;
    // Misses of route() then go to the CPU by `mode` (ModelOptions::expert_compute).
    void set_compute(ExpertCompute mode, const CpuCost& cost) {
        mode_ = mode;
        cost_ = cost;
    }
    // The experts of the current layer-step computed on the CPU (their pairs are k_skip in
    // every wave).
    const std::vector<uint32_t>& cpu_experts() const { return cur_cpu_; }
    void add_cpu(uint64_t pairs, double seconds) {
        stats_.cpu_pairs += pairs;
        stats_.cpu_seconds += seconds;
    }
    // Starts `layer`'s experts for this step: `ids` holds the routed expert of every (token,
    // expert) pair. Returns the number of waves (>= 1). The stream must have synced since the
    // last wave was loaded (the staging is reused from its start).
    uint32_t route(uint32_t layer, std::span<const uint32_t> ids);
    // Stages wave `wave`'s missing experts, records their copies into `cs` (syncing it when the
    // staging is full), and returns every pair's slot, k_skip outside the wave. Waves in order.
    std::vector<uint32_t> load_wave(uint32_t wave, vk::CommandStream& cs);
    // Prefetch: stages and records copies of `layer`'s forecast experts (k per token, as
    // route() takes them) that are not cached and that a use now would keep (a free slot, or a
    // colder expert to evict), while the staging has room (it never syncs). Call after the
    // current layer's waves; `layer` must not be in flight. route() counts the ones it finds.
    void prefetch(uint32_t layer, std::span<const uint32_t> ids, vk::CommandStream& cs);
    const ExpertCacheStats& stats() const { return stats_; }
    void add_route_seconds(double s) { stats_.route_seconds += s; }
    // Which expert each of `layer`'s slots holds (UINT32_MAX: empty), for tests.
    std::vector<uint32_t> cached(uint32_t layer) const;

  private:
    struct Pool {  // one expert tensor of a layer: its file data and its slots on the device
        const TensorInfo* tensor = nullptr;
        DeviceMatrix* matrix = nullptr;
        uint64_t expert_bytes = 0;
        uint64_t slots_per_part = 0;
    };
    struct Layer {
        std::vector<Pool> pools;
        std::vector<uint32_t> slot_expert;  // UINT32_MAX: empty
        std::vector<uint32_t> expert_slot;  // UINT32_MAX: not cached
        std::vector<double> decayed;        // uses, decayed to last_step
        std::vector<uint64_t> last_step, last_use;
        std::vector<bool> prefetched;  // uploaded by prefetch, not routed since
        uint64_t step = 0;             // route() calls so far
    };
    void upload(Layer& L, uint32_t expert, uint32_t slot, vk::CommandStream& cs);
    // The unpinned slot a miss of L takes: an empty one, else the lowest decayed use rate
    // (ties: least recently used, lowest id); k_none when all are pinned. `rate` gets the
    // victim's rate (0 for an empty slot).
    uint32_t victim(const Layer& L, const std::vector<bool>& pinned, double& rate) const;
    // Expert e's uses decayed to L's current step.
    static double rate_now(const Layer& L, uint32_t e);
    // Puts `expert` into `slot`: unmaps what the slot held (a failed upload leaves an empty
    // slot, not a wrong one), stages the upload into cs and maps it.
    void install(Layer& L, uint32_t expert, uint32_t slot, vk::CommandStream& cs);
    uint64_t layer_expert_bytes(const Layer& L) const;

    vk::Context& ctx_;
    const GgufFile& file_;
    vk::BufferSpan staging_;
    uint64_t staged_ = 0;  // bytes of staging in use since the last sync
    uint32_t n_expert_ = 0;
    uint32_t slots_ = 0;
    std::vector<Layer> layers_;  // by layer index; empty for dense layers
    ExpertCacheStats stats_;
    uint64_t clock_ = 0;  // lookups, for recency
    // The layer being loaded by route() / load_wave().
    uint32_t cur_layer_ = 0;
    std::vector<uint32_t> cur_ids_;
    std::vector<std::vector<uint32_t>> cur_waves_;  // distinct experts per wave
    std::vector<uint32_t> cur_cpu_;                 // misses computed on the CPU
    ExpertCompute mode_ = ExpertCompute::Gpu;
    CpuCost cost_;
};

}  // namespace vkllm
