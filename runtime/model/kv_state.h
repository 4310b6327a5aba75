#pragma once
// Per-sequence KV cache state of the Gemma 4 model (gemma4-model.md §3.4, §3.9;
// docs/design/forward.md, docs/design/memory-plan.md). The caches themselves are shared: sequence s
// owns the slots [s * capacity, (s + 1) * capacity) of every layer's K and V cache, where
// capacity is n_ctx for a global layer and swa_capacity for a sliding one, so one store and one
// attention dispatch serve every sequence of a step. Within its region, global layers keep
// slot = position for the whole context; sliding window (SWA) layers keep a ring of `swa_capacity`
// slots, slot = position % swa_capacity, whose slot -> position map is mirrored here and uploaded
// before each step (the attention mask reads it). With swa_capacity >= n_swa + batch, writing a
// batch at positions L..L+T-1 only overwrites cells at positions j with L - j >= n_swa (the §3.9
// rollback-safe rule), and no query of the batch needs an overwritten key.

#include <cstdint>
#include <vector>

namespace vkllm {

// How big the caches are (the same for every sequence).
struct KvGeometry {
    uint32_t n_ctx = 0;
    uint32_t n_swa = 0;         // 0: the model has no sliding layers
    uint32_t swa_capacity = 0;  // ring slots of a SWA layer; n_ctx when the ring covers the context
    uint32_t max_batch = 0;     // largest number of tokens appended to one sequence in one step

    // min(n_ctx, n_swa + max_batch), padded up to a multiple of 64 (one attention tile).
    static KvGeometry make(uint32_t n_ctx, uint32_t n_swa, uint32_t max_batch);
};

class SeqKvState {
  public:
    explicit SeqKvState(const KvGeometry& g);

    uint32_t length() const { return length_; }
    // Slot of position p in a SWA ring / in a global cache.
    uint32_t swa_slot(uint32_t p) const { return p % geom_.swa_capacity; }
    // Position held by each SWA slot, -1 when empty.
    const std::vector<int32_t>& ring_positions() const { return ring_; }
    // Slots a SWA attention must scan after appending `n_new` tokens.
    uint32_t swa_slots_after(uint32_t n_new) const;

    // Records that positions length()..length()+n-1 are written (n <= max_batch).
    void append(uint32_t n);
    // Keeps positions < n when the ring still holds the window every later query needs, else the
    // longest prefix that qualifies; returns the kept length.
    uint32_t truncate(uint32_t n);

  private:
    bool window_held(uint32_t m) const;

    KvGeometry geom_;
    uint32_t length_ = 0;
    std::vector<int32_t> ring_;
};

}  // namespace vkllm
