#pragma once
// Gemma 4 target model on Vulkan (gemma4-model.md §3): weights in device memory, a KV cache per
// sequence, chunked prefill and batched single-token decode. docs/design/forward.md has the design.
//
// Sequences are independent slots 0..n_seq-1 (the server's --parallel). Each keeps its own KV
// cache: global layers hold the whole context, sliding-window layers a ring of
// min(n_ctx, n_swa + prefill_chunk) cells (padded) with the rollback-safe overwrite rule of §3.9.
//
// Borrows the vk::Context and the GgufFile (weights are uploaded in the constructor; the file may
// be closed afterwards only if nothing else needs it).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/ggml_type.h"
#include "loader/gguf_file.h"
#include "runtime/model/step_entry.h"
#include "runtime/vk/context.h"

namespace vkllm {

// The KV caches of one kind of layer (sliding-window or global), summed over the kind's layers
// that own a cache (shared-KV layers own none): formats.md §4.2's B_l, per kind.
struct KvKindPlan {
    bool sliding = false;
    uint32_t layers = 0;         // layers of this kind owning a K and a V cache
    uint64_t k_token_bytes = 0;  // K bytes one token takes in all of them
    uint64_t v_token_bytes = 0;
    uint64_t layer_token_bytes = 0;  // K + V of one layer, when all have one shape; else 0
    uint32_t slots = 0;              // cache slots per sequence: n_ctx, or the sliding ring
    uint64_t bytes = 0;              // every sequence: n_seq * slots * token_bytes()
    uint64_t token_bytes() const { return k_token_bytes + v_token_bytes; }
};

// Where a MoE model's experts live under a VRAM budget (docs/design/moe-streaming.md). Without
// a budget, or when everything fits it, every expert is resident (streamed = false).
struct ExpertCachePlan {
    uint64_t budget = 0;          // the VRAM budget the plan was made for; 0: none
    bool streamed = false;        // the experts do not all fit: each MoE layer caches some
    uint64_t expert_bytes = 0;    // every expert of every layer, as stored
    uint64_t slot_row_bytes = 0;  // one expert of every MoE layer: a slot in each layer's cache
    uint64_t total_experts = 0;   // n_expert x MoE layers
    uint32_t moe_layers = 0;
    uint32_t slots_per_layer = 0;   // experts each MoE layer's cache holds (n_expert: resident)
    uint64_t slots = 0;             // slots_per_layer x moe_layers
    uint64_t non_expert_bytes = 0;  // the rest of the weights
    // The caches' bytes (slots_per_layer slot rows, each pool part aligned); 0 when resident.
    uint64_t cache_bytes = 0;
};

// What a streamed expert cache did since the load (Gemma4Model::expert_cache_stats).
struct ExpertCacheStats {
    uint64_t layer_steps = 0;    // MoE layers run, summed over steps
    uint64_t lookups = 0;        // distinct experts routed per layer-step, summed
    uint64_t hits = 0;           // of those, found cached
    uint64_t uploads = 0;        // experts uploaded
    uint64_t upload_bytes = 0;   // their bytes
    uint64_t waves = 0;          // expert passes run (one per layer-step when its experts fit)
    double upload_seconds = 0;   // host time spent uploading
    double route_seconds = 0;    // host time waiting for the routing of layers
    uint64_t prefetched = 0;     // experts uploaded ahead from a forecast
    uint64_t prefetch_used = 0;  // of those, routed at their layer's next step
    uint64_t cpu_experts = 0;    // misses computed on the CPU instead of uploaded
    uint64_t cpu_pairs = 0;      // (token, expert) pairs they served
    double cpu_seconds = 0;      // host time computing them

    double hit_rate() const {
        return lookups ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0;
    }
    double prefetch_precision() const {
        return prefetched ? static_cast<double>(prefetch_used) / static_cast<double>(prefetched)
                          : 0.0;
    }
    // The counts of the work done since `before` (an earlier reading of the same cache).
    ExpertCacheStats since(const ExpertCacheStats& before) const {
        ExpertCacheStats d;
        d.layer_steps = layer_steps - before.layer_steps;
        d.lookups = lookups - before.lookups;
        d.hits = hits - before.hits;
        d.uploads = uploads - before.uploads;
        d.upload_bytes = upload_bytes - before.upload_bytes;
        d.waves = waves - before.waves;
        d.upload_seconds = upload_seconds - before.upload_seconds;
        d.route_seconds = route_seconds - before.route_seconds;
        d.prefetched = prefetched - before.prefetched;
        d.prefetch_used = prefetch_used - before.prefetch_used;
        d.cpu_experts = cpu_experts - before.cpu_experts;
        d.cpu_pairs = cpu_pairs - before.cpu_pairs;
        d.cpu_seconds = cpu_seconds - before.cpu_seconds;
        return d;
    }
};

// Device bytes by kind, printed at load and by `vkllm info`, with what they were planned for.
struct MemoryPlan {
    uint64_t weights = 0;
    uint64_t kv = 0;
    uint64_t scratch = 0;      // activations, logits, attention split scratch
    uint64_t device_heap = 0;  // size of the largest device-local heap, for the fit check
    uint64_t total() const { return weights + kv + scratch; }
    // What total() must not exceed: the VRAM budget and the device heap (0: unknown, no check).
    uint64_t limit() const;

    uint32_t n_ctx = 0;  // resolved
    uint32_t n_ctx_train = 0;
    uint32_t n_seq = 0;
    GgmlType kv_k = GgmlType::F16;
    GgmlType kv_v = GgmlType::F16;
    std::vector<KvKindPlan> kv_kinds;  // sliding first, then global; kinds without caches left out
    ExpertCachePlan experts;           // MoE models; weights counts only the resident ones
};

// Where a streamed expert that misses the device cache is computed. Auto: on the CPU when it is
// colder than every cached expert (it would not be kept) and computing it from host memory is
// faster than uploading it, by bandwidths measured at load; else uploaded. Gpu: always uploaded
// (outputs bit-identical to resident experts). Cpu: every miss on the CPU (tests).
enum class ExpertCompute : uint8_t { Auto, Gpu, Cpu };

// ModelOptions::vram_budget for "the device heap less a margin" (k_vram_auto_margin of it, at
// least 256 MiB), the `auto` of --vram-budget.
constexpr uint64_t k_vram_budget_auto = UINT64_MAX;

struct ModelOptions {
    uint32_t n_ctx = 0;             // tokens per sequence; 0 = min(n_ctx_train, 8192)
    uint32_t n_seq = 1;             // independent sequences (server slots)
    GgmlType kv_k = GgmlType::F16;  // F16, Q8_0, TURBO2_0, TURBO3_0 or TURBO4_0
    GgmlType kv_v = GgmlType::F16;
    uint32_t prefill_chunk = 512;  // tokens per prefill batch (>= 1)
    // Device bytes the load may use (weights + KV + scratch); 0: the device heap. A MoE model
    // whose experts do not fit it is planned with an expert cache (MemoryPlan::experts).
    uint64_t vram_budget = 0;
    // Decode mat-vecs on q8_1-rounded activations with integer dot products where the device
    // accelerates them (ops::matvec_int_dot). false keeps every product on fp32 activations:
    // slower, and the arithmetic of a step then does not depend on how many tokens it holds
    // (tests of batching and chunking compare such runs bit-for-bit-near; with 8-bit
    // activations any ulp-level difference upstream can flip a rounding and grow from there).
    bool int_dot_matvec = true;
    // Time every dispatch of a step on the GPU (timestamps between dispatches; a little slower):
    // last_step_profile() then says where a step's time goes, by kernel.
    bool profile_dispatches = false;
    // Keep each step's expert choices for last_step_routing() (MoE models; one small readback
    // per step): routing traces for the expert cache's replacement policy (issue #15).
    bool record_routing = false;
    // Experts cached per MoE layer, when fewer than the model has: streams the rest as a VRAM
    // budget that leaves room for exactly this many would (tests and benches of the cache; 0 =
    // from vram_budget).
    uint32_t expert_slots = 0;
    // Where streamed experts that miss the cache run (docs/design/moe-streaming.md).
    ExpertCompute expert_compute = ExpertCompute::Auto;
    // Streamed experts: at each MoE layer's routing, forecast the next MoE layer's experts (its
    // router on this layer's input) and start uploading them, so the copies overlap compute.
    bool expert_prefetch = true;
    // Load reporting, for tools to draw (the runtime prints nothing): the plan once before any
    // allocation, then the weight bytes uploaded after each tensor (done == total at the end).
    std::function<void(const MemoryPlan&)> on_plan;
    std::function<void(uint64_t done, uint64_t total)> on_upload;
};

// Where an allocation lives.
enum class BufferHome : uint8_t {
    Weights,   // device-local, uploaded at load
    Kv,        // device-local caches
    Scratch,   // device-local activations, logits, split-K attention scratch
    Upload,    // host-visible inputs: global positions, PLE gather ids, per-step pool
    Readback,  // host-visible logits
};
const char* home_name(BufferHome home);

struct PlannedBuffer {
    std::string name;  // "kv.s0.l3.k", "scratch.h", ...
    BufferHome home;
    uint64_t bytes;  // as requested from the arena (binding alignment comes on top)
};

class Gemma4Model {
  public:
    // Validates the file (Gemma4Config::from_gguf, throws ModelFileError naming the problem),
    // plans memory (throws std::runtime_error with the plan when it does not fit the device), and
    // uploads the weights.
    Gemma4Model(vk::Context& ctx, const GgufFile& file, const ModelOptions& options);
    ~Gemma4Model();
    Gemma4Model(const Gemma4Model&) = delete;
    Gemma4Model& operator=(const Gemma4Model&) = delete;

    // Memory plan of a file and options without touching a device (for `vkllm info`).
    static MemoryPlan plan(const GgufFile& file, const ModelOptions& options);

    const Gemma4Config& config() const;
    const MemoryPlan& memory_plan() const;
    // Every allocation of the load but the weights, as planned (memory_plan.h), and the bytes
    // really requested from each home's arena (equal to the plan's, which tests check).
    const std::vector<PlannedBuffer>& planned_buffers() const;
    uint64_t allocated_bytes(BufferHome home) const;
    uint32_t n_ctx() const;
    uint32_t n_seq() const;
    uint32_t n_vocab() const;
    // Tokens currently in the KV cache of `seq`.
    uint32_t seq_length(uint32_t seq) const;

    // One forward over several distinct sequences, each appending its entry's tokens: prefill
    // chunks, decode tokens and multi-token verify runs mixed in one submit. Returns the logits
    // the entries ask for, in entry order, [n_vocab, sum of logit_count] (after the final softcap
    // and suppression). At most max_step_tokens() tokens in all and prefill_chunk per entry.
    // Throws ContextOverflowError when an entry would exceed n_ctx, std::invalid_argument for an
    // empty step or entry, a repeated or bad sequence index, a token outside the vocabulary or
    // too many tokens; nothing changes when it throws before the forward runs.
    std::vector<float> step(std::span<const StepEntry> entries);
    uint32_t max_step_tokens() const;
    // Compute dispatches the last step recorded (forward + LM head): what batching across
    // sequences must keep flat as a step gains sequences.
    uint32_t last_step_dispatches() const;
    // With ModelOptions::profile_dispatches: GPU time of the last step's forward and first
    // LM-head group by kernel module (each dispatch's time includes its barrier and launch gap),
    // largest first. Empty otherwise or where the device has no compute timestamps.
    struct KernelTime {
        std::string module;
        uint32_t dispatches = 0;
        double us = 0;
    };
    std::vector<KernelTime> last_step_profile() const;
    // With ModelOptions::record_routing: per layer, the experts the last step routed, k per
    // token in the step's token order ([k, T]); empty for dense layers.
    std::vector<std::vector<uint32_t>> last_step_routing() const;
    // The same for layers 1.. as forecast before the layer runs: its router on the previous
    // layer's output (what a prefetch would upload); empty for layer 0 and dense layers.
    std::vector<std::vector<uint32_t>> last_step_predicted_routing() const;
    // Host time the last step spent recording its forward and first LM-head group (before the
    // GPU starts on it), in microseconds.
    double last_step_record_us() const;
    // The expert cache's counters since the load when the experts are streamed
    // (memory_plan().experts.streamed), nullopt when every expert is resident.
    std::optional<ExpertCacheStats> expert_cache_stats() const;
    uint32_t prefill_chunk() const;

    // Appends `tokens` to `seq` at positions seq_length(seq)..., in chunks of prefill_chunk.
    // Returns logits after the final softcap and suppression, [n_vocab, k] with k = tokens.size()
    // when all_logits, else 1 (the last position). Throws ContextOverflowError when the sequence
    // would exceed n_ctx (nothing is changed), std::invalid_argument for an empty span, a bad
    // sequence index or a token id outside the vocabulary.
    std::vector<float> prefill(uint32_t seq, std::span<const int32_t> tokens,
                               bool all_logits = false);

    // One decode step for several distinct sequences, one token each, in one batch (a step of
    // one-token entries): returns [n_vocab, batch.size()]. Same errors as step.
    std::vector<float> decode(std::span<const SeqToken> batch);

    // Keeps positions < n of `seq` and drops the rest. Returns the length actually kept: n when
    // the sliding-window rings still hold every position that n needs, else less (down to 0); the
    // caller re-prefills from there.
    uint32_t truncate(uint32_t seq, uint32_t n);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Parses a KV cache type name (case-insensitive): f16, q8_0, tq3 or turbo3, tq2 or turbo2, tq4 or
// turbo4 (formats.md §3). Throws std::invalid_argument naming the accepted values.
GgmlType parse_kv_type(const std::string& name);

}  // namespace vkllm
