#pragma once
// The model as the server's scheduler drives it: n_seq independent sequences (slots) and one
// step over several of them, mixing prefill chunks and decode tokens (runtime/model/
// step_entry.h). This is the surface of Gemma4Model the engine needs; the interface lets the
// scheduler and the whole HTTP stack run in unit tests against a scripted model, with no GPU.

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/model/step_entry.h"

namespace vkllm::server {

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
};

}  // namespace vkllm::server
