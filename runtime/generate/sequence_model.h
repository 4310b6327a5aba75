#pragma once
// One sequence of a model as the generation loop sees it: append tokens, get the logits after the
// last one, roll back. The interface lets the loop run against a scripted model in unit tests;
// Gemma4Sequence (runtime/model/gemma4_sequence.h) is the real one. Vulkan-free.

#include <cstdint>
#include <span>
#include <vector>

namespace vkllm {

class SequenceModel {
  public:
    virtual ~SequenceModel() = default;
    virtual uint32_t n_ctx() const = 0;
    virtual uint32_t n_vocab() const = 0;
    // Tokens the sequence's KV cache holds.
    virtual uint32_t length() const = 0;
    // Appends `tokens` (non-empty); returns the n_vocab logits after the last one. Throws
    // ContextOverflowError, leaving the sequence unchanged, when they do not fit.
    virtual std::vector<float> prefill(std::span<const int32_t> tokens) = 0;
    // Appends one token; returns the logits after it.
    virtual std::vector<float> decode(int32_t token) = 0;
    // Keeps the first `n` tokens; returns how many were actually kept (may be fewer, see
    // Gemma4Model::truncate).
    virtual uint32_t truncate(uint32_t n) = 0;
};

}  // namespace vkllm
