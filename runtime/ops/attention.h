#pragma once
// Flash attention over a KV cache (docs/design/attention.md). fp32 math, online softmax, GQA,
// causal + sliding-window masking from per-query and per-slot positions, optional softcap.
//
// Two forms, chosen by plan_attention(): one pass that writes the output directly, or split-K
// (flash decoding): the slot range is cut into chunks processed by separate workgroups that write
// partial (max, sum, unnormalised output) rows into a scratch buffer, and a reduce kernel combines
// them. A cache split into several binding-sized parts always takes the split-K form (each part
// is at least one split).

#include <cstdint>

#include "runtime/ops/kv_store.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct AttentionShape {
    uint32_t head_dim = 0;  // 128, 256 or 512 (any multiple of 64 up to 512 works)
    uint32_t n_heads = 0;   // query heads, a multiple of n_kv_heads
    uint32_t n_kv_heads = 0;
    uint32_t n_q = 0;      // queries (tokens)
    uint32_t n_slots = 0;  // cache slots [0, n_slots) are scanned; <= capacity
};

struct AttentionParams {
    float scale = 1.0f;    // applied to q.k (Gemma 4: 1.0)
    float softcap = 0.0f;  // > 0: s = softcap * tanh(s / softcap)
    uint32_t window = 0;   // > 0: a query at p sees only kv positions j with p - j < window
    uint32_t splits = 0;   // 0: chosen from the device and the shape; else requested split count
};

struct AttentionPlan {
    uint32_t rows_per_group = 0;  // query rows (query x GQA head) per workgroup
    uint32_t chunk_slots = 0;     // slots per split
    uint32_t splits = 0;          // total splits over all cache parts; 1 = no reduce pass
    uint64_t scratch_bytes = 0;   // 0 when splits == 1
};

struct AttentionArgs {
    vk::BufferSpan q;      // fp32 [head_dim, n_heads, n_q]
    vk::BufferSpan q_pos;  // int32 [n_q], the absolute position of each query (>= 0)
    const KvCache* k = nullptr;
    const KvCache* v = nullptr;
    vk::BufferSpan slot_pos;  // int32 [>= n_slots]: position held by each slot, -1 when empty
    vk::BufferSpan out;       // fp32 [head_dim, n_heads, n_q]
    vk::BufferSpan scratch;   // plan.scratch_bytes, one binding; ignored when plan needs none
};

// Query a visible kv slot j iff slot_pos[j] >= 0 && slot_pos[j] <= q_pos && (window == 0 ||
// q_pos - slot_pos[j] < window). A query with no visible slot gets a zero output.
AttentionPlan plan_attention(const vk::DeviceInfo& info, const AttentionShape& shape,
                             const AttentionParams& params, const KvCache& k, const KvCache& v);

// The device-dependent parts of a plan (kernel_paths.h lists them): query rows per workgroup for
// `rows` (query x GQA head) rows of head_dim, within 32 KiB of shared memory on every device; and
// the workgroup count below which the automatic split-K cuts the slot range.
uint32_t attention_rows_per_group(const vk::DeviceInfo& info, uint32_t head_dim, uint32_t rows);
uint32_t attention_split_target(const vk::DeviceInfo& info);

// Throws std::invalid_argument on inconsistent shapes or too-small buffers.
void record_attention(vk::Context& ctx, vk::CommandStream& cs, const AttentionShape& shape,
                      const AttentionParams& params, const AttentionArgs& args);

}  // namespace vkllm::ops
