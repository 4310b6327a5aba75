#pragma once
// Flash attention over a KV cache (docs/design/attention.md). fp32 math, online softmax, GQA,
// causal + sliding-window masking from per-query and per-slot positions, optional softcap, over
// a batch of sequences that each own a region of the same caches (one dispatch for all of them).
//
// Two forms, chosen by plan_attention(): one pass that writes the output directly, or split-K
// (flash decoding): the slot range is cut into chunks processed by separate workgroups that write
// partial (max, sum, unnormalised output) rows into a scratch buffer, and a reduce kernel combines
// them. A batch scanning slots of several binding-sized cache parts always takes the split-K
// form (each part is at least one split).

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/ops/kv_store.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

struct AttentionShape {
    uint32_t head_dim = 0;  // 128, 256 or 512 (any multiple of 64 up to 512 works)
    uint32_t n_heads = 0;   // query heads, a multiple of n_kv_heads
    uint32_t n_kv_heads = 0;
};

// One sequence of a batched attention. Its queries are columns [q_col, q_col + n_q) of q, q_pos
// and out; its keys are the cache slots [slot_base, slot_base + n_slots) (its region of a cache
// shared by every sequence), and slot_pos[pos_base + j] is the position region slot j holds.
struct AttentionSeq {
    uint32_t q_col = 0;
    uint32_t n_q = 0;  // >= 1
    uint32_t slot_base = 0;
    uint32_t n_slots = 0;  // >= 1
    uint32_t pos_base = 0;
};

struct AttentionParams {
    float scale = 1.0f;    // applied to q.k (Gemma 4: 1.0)
    float softcap = 0.0f;  // > 0: s = softcap * tanh(s / softcap)
    uint32_t window = 0;   // > 0: a query at p sees only kv positions j with p - j < window
    uint32_t splits = 0;   // 0: chosen from the device and the batch; else requested splits
};

// A slot range of the caches lying inside one K part and one V part: one dispatch.
struct AttentionSegment {
    uint32_t begin = 0, end = 0;
    size_t k_part = 0, v_part = 0;
};

// Words per sequence of AttentionPlan::table (mirrors `SeqEntry` in shaders/flash_attn.comp).
inline constexpr uint32_t k_attention_seq_words = 8;

struct AttentionPlan {
    uint32_t rows_per_group = 0;    // query rows (query x GQA head) per workgroup
    uint32_t row_groups = 0;        // workgroups along x: every sequence's rows in BR blocks
    uint32_t chunk_slots = 0;       // slots per split, counted from each sequence's region start
    uint32_t splits = 0;            // splits per segment (the z dimension of every dispatch)
    uint32_t n_cols = 0;            // query columns: max(q_col + n_q)
    uint32_t slot_pos_entries = 0;  // max(pos_base + n_slots)
    std::vector<AttentionSegment> segments;  // those some sequence scans, in slot order
    uint64_t scratch_bytes = 0;              // 0 when total_splits() == 1
    std::vector<uint32_t> table;  // k_attention_seq_words per sequence: upload as args.seqs

    uint32_t total_splits() const { return splits * static_cast<uint32_t>(segments.size()); }
};

struct AttentionArgs {
    vk::BufferSpan q;      // fp32 [head_dim, n_heads, n_cols]
    vk::BufferSpan q_pos;  // int32 [n_cols], the absolute position of each query (>= 0)
    const KvCache* k = nullptr;
    const KvCache* v = nullptr;
    vk::BufferSpan slot_pos;  // int32 [>= slot_pos_entries], -1 for an empty slot
    vk::BufferSpan seqs;      // the plan's table, uploaded
    vk::BufferSpan out;       // fp32 [head_dim, n_heads, n_cols]
    vk::BufferSpan scratch;   // plan.scratch_bytes, one binding; ignored when the plan needs none
};

// Query i of a sequence sees its region slot j iff p = slot_pos[pos_base + j] >= 0 &&
// p <= q_pos[q_col + i] && (window == 0 || q_pos - p < window). A query with no visible slot gets
// a zero output.
//
// One plan covers every sequence of a step, so the number of dispatches is the number of
// segments (one unless a cache spans several bindings) plus one reduce when split, whatever the
// number of sequences. Split-K when the row groups alone cannot fill the device (decode); the
// split count then shrinks until the scratch fits `max_scratch_bytes` (at least one split per
// segment remains: check plan.scratch_bytes against what you have).
AttentionPlan plan_attention(const vk::DeviceInfo& info, const AttentionShape& shape,
                             std::span<const AttentionSeq> seqs, const AttentionParams& params,
                             const KvCache& k, const KvCache& v,
                             uint64_t max_scratch_bytes = UINT64_MAX);

// The device-dependent parts of a plan (kernel_paths.h lists them): query rows per workgroup for
// `rows` (query x GQA head) rows of head_dim, within 32 KiB of shared memory on every device; and
// the workgroup count below which the automatic split-K cuts the slot range.
uint32_t attention_rows_per_group(const vk::DeviceInfo& info, uint32_t head_dim, uint32_t rows);
// The head dim the kernel computes in: head_dim, or the padded dim of a TurboQuant cache
// (kv_stored_dim) when K or V is one. rows_per_group is planned for it.
uint32_t attention_compute_dim(const AttentionShape& shape, KvType k, KvType v);
uint32_t attention_split_target(const vk::DeviceInfo& info);

// Records `plan` (from plan_attention with the same shape, sequences and caches). Throws
// std::invalid_argument on too-small buffers.
void record_attention(vk::Context& ctx, vk::CommandStream& cs, const AttentionShape& shape,
                      const AttentionParams& params, const AttentionPlan& plan,
                      const AttentionArgs& args);

}  // namespace vkllm::ops
