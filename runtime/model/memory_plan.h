#pragma once
// The one memory planner of Gemma4Model (docs/design/memory-plan.md): a pure function from the
// model config, the options and what the device allows to every allocation a load makes. The
// constructor allocates exactly this list (tests compare the arenas with it on every fixture) and
// `vkllm info` prints it; nothing here touches a device.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/model/gemma4_model.h"
#include "runtime/model/gemma4_model_impl.h"
#include "runtime/model/kv_state.h"
#include "runtime/ops/kv_store.h"
#include "runtime/vk/device_info.h"

namespace vkllm {

namespace vk {
class Device;
}

// What the planner needs to know about a device.
struct PlanDevice {
    vk::DeviceInfo info;             // kernel choices that size scratch (attention split-K)
    uint64_t max_binding_bytes = 0;  // one descriptor binding (EffectiveLimits)
    uint64_t max_allocation_bytes = 0;
    uint64_t binding_alignment = 0;
    uint64_t device_heap = 0;  // the largest device-local heap; 0: unknown (no fit check)

    static PlanDevice of(const vk::Device& device);
    // No device at hand (`vkllm info`): a discrete GPU with 128 MiB bindings (lavapipe's and the
    // smallest common limit), 256-byte offset alignment and the kernels' GPU choices.
    static PlanDevice generic();
};

struct ModelPlan {
    ModelOptions opt;  // n_ctx resolved, prefill_chunk possibly reduced to fit a binding
    ScratchLayout layout;
    KvGeometry geom;
    std::vector<PlannedBuffer> buffers;  // everything but the weights, in allocation order
    uint64_t weight_bytes = 0;           // the tensors' bytes, as uploaded
    MemoryPlan totals;                   // per kind, with alignment padding, for the fit check
    // Per layer owning a cache: its K and V caches as shapes with the parts that
    // Arena::allocate_rows will give them (no memory behind them; each part fits one binding and
    // one allocation).
    std::map<uint32_t, std::pair<ops::KvCache, ops::KvCache>> kv_caches;
    // When the plan does not fit the device and its KV types are not turbo3 / turbo2 already: the
    // totals of the same plan with turbo3 K and V (--kv-k tq3 --kv-v tq3), for the refusal to
    // name; nullopt otherwise (or when the head dims do not allow turbo3).
    std::optional<MemoryPlan> with_tq3;

    uint64_t bytes(BufferHome home) const;  // requested bytes of one home (weights included)
    // Throws std::runtime_error naming the plan when it does not fit the device heap, and what
    // a turbo3 KV cache would change.
    void check_fits() const;
};

// n_ctx may exceed the model's trained context up to this many tokens (quality there is
// unverified; the tools warn, past_training_warning). resolve() refuses more than
// max(n_ctx_train, k_max_ctx_past_training).
constexpr uint32_t k_max_ctx_past_training = 1u << 20;
// n_seq * n_ctx: slot and position indices are 32-bit on the device (signed where they are
// positions), so at most 2^31 slots per cache.
constexpr uint64_t k_max_kv_slots = 1ull << 31;

// The weights as the loader uploads them: their bytes and how many tensors (each allocation is
// aligned, so the fit check adds one alignment per tensor).
struct WeightBytes {
    uint64_t bytes = 0;
    uint64_t tensors = 0;
    // MoE experts (gemma4-model.md §3.6): all layers' expert tensors, and one expert's gate, up
    // and down in every MoE layer (a slot in each layer's expert cache).
    uint64_t expert_bytes = 0;
    uint64_t expert_tensors = 0;
    uint64_t expert_slot_row_bytes = 0;
    std::vector<uint64_t> expert_sizes;   // one expert of each expert tensor, in layer order
    uint64_t expert_layer_max_bytes = 0;  // one expert's tensors in the layer where largest
};
// Device bytes of `slots` experts of one expert tensor in an expert cache: parts of whole slots
// that each fit a binding, each aligned (runtime/model/expert_cache.h allocates them so).
uint64_t expert_pool_bytes(uint64_t expert_bytes, uint32_t slots, uint64_t max_binding_bytes,
                           uint64_t alignment);
// Host-visible staging for expert uploads holds a token's routed experts of the largest layer,
// at most this much (a wave that needs more syncs and reuses it).
constexpr uint64_t k_expert_staging_max = 32ull << 20;
// The buffers a streamed expert plan adds: a layer's routed ids read back
// ("readback.route_ids"), the slot of every (token, expert) pair of each wave of a layer, one
// binding-aligned region per wave ("upload.expert_slots"), and the upload staging
// ("upload.expert_staging"); with `cpu` (experts may run on the CPU) also the experts' input
// read back ("readback.expert_x") and the CPU experts' outputs ("upload.expert_cpu_out", for
// k_cpu_expert_pairs pairs).
std::vector<PlannedBuffer> expert_streaming_buffers(const Gemma4Config& cfg,
                                                    const WeightBytes& weights,
                                                    const ScratchLayout& layout, uint64_t alignment,
                                                    bool cpu);
// (token, expert) pairs a layer-step computes on the CPU at most (a decode batch of 8 tokens'
// worth at top-8); misses beyond are uploaded.
constexpr uint32_t k_cpu_expert_pairs = 64;
// The budget ModelOptions::vram_budget stands for on a device with this heap (0: none).
uint64_t resolve_vram_budget(uint64_t requested, uint64_t device_heap);
// "8GiB", "512MiB", "24GB", "1000000" (bytes) or "auto" -> bytes (k_vram_budget_auto for auto);
// throws std::invalid_argument naming the accepted forms.
uint64_t parse_vram_budget(const std::string& text);
WeightBytes weight_bytes_of(const Gemma4WeightsView& view);

// Throws std::invalid_argument for bad options and std::runtime_error when the activations
// cannot be laid out within the device's binding limits.
ModelPlan plan_model(const Gemma4Config& cfg, const WeightBytes& weights,
                     const ModelOptions& options, const PlanDevice& device);

// Plan name of the K ('k') or V ('v') cache of `layer` (every sequence's region): "kv.l<layer>.k".
std::string kv_buffer_name(uint32_t layer, char k_or_v);

// n_ctx 0 -> min(n_ctx_train, 8192); validates n_ctx (at most max(n_ctx_train,
// k_max_ctx_past_training), n_seq * n_ctx at most k_max_kv_slots), n_seq, prefill_chunk (clamped
// to n_ctx) and the KV types; throws std::invalid_argument naming the limit.
ModelOptions resolve(const Gemma4Config& cfg, ModelOptions o);
ops::KvType kv_type(GgmlType t);
// Bits per element of a KV cache type on head dims that are multiples of its block (formats.md
// §4.1): f16 16, q8_0 8.5, turbo4 4.25, turbo3 3.125, turbo2 2.125.
double kv_bits_per_element(GgmlType t);
// "weights X MiB + KV cache Y MiB + scratch Z MiB = T MiB (device heap H MiB)".
std::string describe(const MemoryPlan& p);
// The KV cache per layer kind, lines ending in '\n', each starting with `indent`:
//   KV bytes per token: sliding layers 25 x 1600 = 40000 B, global layers 5 x 800 = 4000 B,
//     all layers 44000 B (K turbo3 3.125 bits, V turbo3 3.125 bits per element)
//   KV cache at 1048576 tokens x 1 sequence: sliding layers 58.59 MiB (ring of 1536 slots),
//     global layers 4000.00 MiB
// (26B-A4B; each of the two is one line).
std::string describe_kv(const MemoryPlan& p, const std::string& indent = "");
// "" when n_ctx <= n_ctx_train (or the trained length is unknown); else a warning that quality
// past the trained length is unverified.
std::string past_training_warning(const MemoryPlan& p);

}  // namespace vkllm
