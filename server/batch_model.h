#pragma once
// The model as the server's scheduler drives it: n_seq independent sequences (slots) and one
// step over several of them, mixing prefill chunks and decode tokens (runtime/model/
// step_entry.h). This is the surface of Gemma4Model the engine needs; the interface lets the
// scheduler and the whole HTTP stack run in unit tests against a scripted model, with no GPU.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "runtime/model/step_entry.h"

namespace vkllm::server {

// A streamed expert cache's counters since the load (Gemma4Model::expert_cache_stats).
struct ExpertCacheCounters {
    uint64_t slots_per_layer = 0;
    uint64_t lookups = 0;  // distinct experts routed per MoE layer and step
    uint64_t hits = 0;
    uint64_t uploads = 0;
    uint64_t upload_bytes = 0;
    uint64_t waves = 0;
    uint64_t layer_steps = 0;
    uint64_t cpu_pairs = 0;  // (token, expert) pairs computed on the CPU
    uint64_t prefetched = 0;
    uint64_t prefetch_used = 0;
};

class BatchModel {
  public:
    virtual ~BatchModel() = default;
    virtual uint32_t n_seq() const = 0;
    virtual uint32_t n_ctx() const = 0;
    virtual uint32_t n_vocab() const = 0;
    // Tokens one step may carry in all, and in one entry.
    virtual uint32_t max_step_tokens() const = 0;
    virtual uint32_t max_entry_tokens() const = 0;
    // One forward over distinct sequences, each appending its entry's tokens; returns the logits
    // the entries ask for, in entry order, [n_vocab, sum of logit_count].
    virtual std::vector<float> step(std::span<const StepEntry> entries) = 0;
    // Keeps the first `n` tokens of `seq`; returns how many were kept (possibly fewer).
    virtual uint32_t truncate(uint32_t seq, uint32_t n) = 0;
    // nullopt unless the model streams its MoE experts under a VRAM budget.
    virtual std::optional<ExpertCacheCounters> expert_cache() const { return std::nullopt; }
};

}  // namespace vkllm::server
