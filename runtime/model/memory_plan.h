#pragma once
// The one memory planner of Gemma4Model (docs/design/memory-plan.md): a pure function from the
// model config, the options and what the device allows to every allocation a load makes. The
// constructor allocates exactly this list (tests compare the arenas with it on every fixture) and
// `vkllm info` prints it; nothing here touches a device.

#include <cstdint>
#include <string>
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

    uint64_t bytes(BufferHome home) const;  // requested bytes of one home (weights included)
    // Throws std::runtime_error naming the plan when it does not fit the device heap.
    void check_fits() const;
};

// The weights as the loader uploads them: their bytes and how many tensors (each allocation is
// aligned, so the fit check adds one alignment per tensor).
struct WeightBytes {
    uint64_t bytes = 0;
    uint64_t tensors = 0;
};
WeightBytes weight_bytes_of(const Gemma4WeightsView& view);

// Throws std::invalid_argument for bad options and std::runtime_error when the activations
// cannot be laid out within the device's binding limits.
ModelPlan plan_model(const Gemma4Config& cfg, const WeightBytes& weights,
                     const ModelOptions& options, const PlanDevice& device);

// Plan name of the K ('k') or V ('v') cache of `layer` (every sequence's region): "kv.l<layer>.k".
std::string kv_buffer_name(uint32_t layer, char k_or_v);

// n_ctx 0 -> min(n_ctx_train, 8192); validates n_seq, prefill_chunk (clamped to n_ctx), KV types.
ModelOptions resolve(const Gemma4Config& cfg, ModelOptions o);
ops::KvType kv_type(GgmlType t);
// "weights X MiB + KV cache Y MiB + scratch Z MiB = T MiB (device heap H MiB)".
std::string describe(const MemoryPlan& p);

}  // namespace vkllm
