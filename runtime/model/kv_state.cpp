#include "runtime/model/kv_state.h"

#include <algorithm>
#include <stdexcept>

namespace vkllm {

KvGeometry KvGeometry::make(uint32_t n_ctx, uint32_t n_swa, uint32_t max_batch) {
    KvGeometry g;
    g.n_ctx = n_ctx;
    g.n_swa = n_swa;
    g.max_batch = max_batch;
    const uint64_t want = (uint64_t{n_swa} + max_batch + 63) / 64 * 64;
    g.swa_capacity = n_swa == 0 ? 0 : static_cast<uint32_t>(std::min<uint64_t>(n_ctx, want));
    return g;
}

SeqKvState::SeqKvState(const KvGeometry& g) : geom_(g), ring_(g.swa_capacity, -1) {}

uint32_t SeqKvState::swa_slots_after(uint32_t n_new) const {
    return std::min(geom_.swa_capacity, length_ + n_new);
}

void SeqKvState::append(uint32_t n) {
    if (n > geom_.max_batch || length_ + n > geom_.n_ctx) {
        throw std::logic_error("SeqKvState::append: batch larger than the cache was planned for");
    }
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t p = length_ + i;
        if (geom_.swa_capacity) ring_[swa_slot(p)] = static_cast<int32_t>(p);
    }
    length_ += n;
}

// Every query at position >= m needs the keys at [m - n_swa + 1, m - 1] (clipped at 0) that
// are already cached; the query at m itself writes m.
bool SeqKvState::window_held(uint32_t m) const {
    if (geom_.swa_capacity == 0) return true;
    const uint32_t lo = m + 1 > geom_.n_swa ? m + 1 - geom_.n_swa : 0;
    for (uint32_t j = lo; j < m; ++j) {
        if (ring_[swa_slot(j)] != static_cast<int32_t>(j)) return false;
    }
    return true;
}

uint32_t SeqKvState::truncate(uint32_t n) {
    uint32_t m = std::min(n, length_);
    while (m > 0 && !window_held(m)) --m;
    for (int32_t& p : ring_) {
        if (p >= static_cast<int32_t>(m)) p = -1;
    }
    length_ = m;
    return m;
}

}  // namespace vkllm
