#pragma once
// The model as the server's scheduler drives it: n_seq independent sequences (slots), chunked
// prefill into one slot, and one batched decode step over many slots. This is the surface of
// Gemma4Model the engine needs; the interface lets the scheduler and the whole HTTP stack run in
// unit tests against a scripted model, with no GPU.

#include <cstdint>
#include <span>
#include <vector>

namespace vkllm::server {

struct SlotToken {
    uint32_t seq = 0;
    int32_t token = 0;
};

class BatchModel {
  public:
    virtual ~BatchModel() = default;
    virtual uint32_t n_seq() const = 0;
    virtual uint32_t n_ctx() const = 0;
    virtual uint32_t n_vocab() const = 0;
    // Appends `tokens` to `seq`; returns the n_vocab logits after the last one.
    virtual std::vector<float> prefill(uint32_t seq, std::span<const int32_t> tokens) = 0;
    // One token for each of several distinct sequences; returns [n_vocab, batch.size()].
    virtual std::vector<float> decode(std::span<const SlotToken> batch) = 0;
    // Keeps the first `n` tokens of `seq`; returns how many were kept (possibly fewer).
    virtual uint32_t truncate(uint32_t seq, uint32_t n) = 0;
};

}  // namespace vkllm::server
