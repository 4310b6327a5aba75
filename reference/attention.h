#pragma once
// CPU reference for attention over a KV cache (gemma4-model.md §3.4): plain loops in fp64 over
// already-dequantised K/V. The masking rule is the one runtime/ops/attention.h documents.

#include <cstdint>
#include <span>
#include <vector>

namespace vkllm::reference {

struct AttentionRefShape {
    uint32_t head_dim = 0;
    uint32_t n_heads = 0;  // query heads; head a reads KV head a / (n_heads / n_kv_heads)
    uint32_t n_kv_heads = 0;
    uint32_t n_q = 0;
    uint32_t n_slots = 0;
};

struct AttentionRefParams {
    double scale = 1.0;
    double softcap = 0.0;  // > 0: s = softcap * tanh(s / softcap)
    uint32_t window = 0;   // > 0: visible iff q_pos - kv_pos < window
};

// q: [head_dim, n_heads, n_q]; k, v: [head_dim, n_kv_heads, n_slots]; q_pos: [n_q];
// slot_pos: [n_slots], -1 = empty. Returns [head_dim, n_heads, n_q]; a query that sees no slot
// gets zeros.
std::vector<double> attention(const AttentionRefShape& shape, const AttentionRefParams& params,
                              std::span<const float> q, std::span<const float> k,
                              std::span<const float> v, std::span<const int32_t> q_pos,
                              std::span<const int32_t> slot_pos);

}  // namespace vkllm::reference
