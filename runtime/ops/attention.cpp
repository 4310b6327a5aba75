#include "runtime/ops/attention.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace vkllm::ops {
namespace {

constexpr uint32_t k_cols = 64;           // BC: KV columns per tile = workgroup size
constexpr uint32_t k_max_rows = 32;       // BR limit: the row mask is one uint
constexpr uint32_t k_shared_cap = 32768;  // plan within lavapipe's 32 KiB even on bigger GPUs
constexpr uint32_t k_reduce_workgroup = 64;
constexpr uint32_t k_max_groups_x = 65535;
constexpr uint32_t k_min_split_slots = 256;  // auto split-K never makes chunks smaller

struct FlashAttnPush {  // mirrors `Push` in shaders/flash_attn.comp (std430)
    uint32_t n_cols, n_heads, gqa, n_kv_heads;
    uint32_t n_seqs, group_base, seg_begin, seg_end;
    uint32_t k_first, v_first, chunk, split_base;
    uint32_t mode, window;
    float scale, softcap;
};
static_assert(sizeof(FlashAttnPush) == 64);

struct ReducePush {  // mirrors `Push` in shaders/flash_attn_split_reduce.comp
    uint32_t n_rows, d, n_splits;
};
static_assert(sizeof(ReducePush) == 12);

// Cuts [0, n_slots) of the caches into ranges that each lie inside one K part and one V part.
std::vector<AttentionSegment> segments(const KvCache& k, const KvCache& v, uint32_t n_slots) {
    std::vector<AttentionSegment> out;
    uint32_t s = 0;
    while (s < n_slots) {
        const size_t kp = k.spans.rows_per_part ? s / k.spans.rows_per_part : 0;
        const size_t vp = v.spans.rows_per_part ? s / v.spans.rows_per_part : 0;
        const uint64_t k_end = k.spans.first_row(kp) + k.spans.rows_in(kp);
        const uint64_t v_end = v.spans.first_row(vp) + v.spans.rows_in(vp);
        const auto e = static_cast<uint32_t>(std::min<uint64_t>({k_end, v_end, n_slots}));
        out.push_back({s, e, kp, vp});
        s = e;
    }
    return out;
}

uint32_t shared_bytes(uint32_t rows, uint32_t head_dim) {
    // sh_q, sh_s, 5 per-row words, sh_colvalid
    return 4 * (rows * head_dim + rows * k_cols + 5 * rows + k_cols);
}

std::string dims(const AttentionShape& s) {
    return "head_dim " + std::to_string(s.head_dim) + ", n_heads " + std::to_string(s.n_heads) +
           ", n_kv_heads " + std::to_string(s.n_kv_heads);
}

void need_bytes(const char* what, const vk::BufferSpan& span, uint64_t bytes) {
    if (span.size < bytes) {
        throw std::invalid_argument(std::string("[attention] expected ") + what + " of at least " +
                                    std::to_string(bytes) + " bytes, got " +
                                    std::to_string(span.size));
    }
}

void validate(const AttentionShape& s, std::span<const AttentionSeq> seqs, const KvCache& k,
              const KvCache& v) {
    const bool ok = s.head_dim % k_cols == 0 && s.head_dim > 0 && s.head_dim <= 512 &&
                    s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0 && s.n_heads > 0;
    if (!ok) {
        throw std::invalid_argument(
            "[attention] expected head_dim a multiple of 64 up to 512 and n_heads a positive "
            "multiple of n_kv_heads, got " +
            dims(s));
    }
    for (const KvCache* c : {&k, &v}) {
        if (c->head_dim != s.head_dim || c->n_kv_heads != s.n_kv_heads || c->spans.parts.empty()) {
            throw std::invalid_argument(
                "[attention] expected K/V caches with the shape's head_dim and n_kv_heads, got "
                "cache head_dim " +
                std::to_string(c->head_dim) + ", n_kv_heads " + std::to_string(c->n_kv_heads) +
                " for " + dims(s));
        }
    }
    if (seqs.empty()) throw std::invalid_argument("[attention] expected at least one sequence");
    std::vector<std::pair<uint32_t, uint32_t>> cols;
    for (const AttentionSeq& q : seqs) {
        const uint64_t end = uint64_t{q.slot_base} + q.n_slots;
        if (q.n_q == 0 || q.n_slots == 0 || end > k.capacity || end > v.capacity) {
            throw std::invalid_argument(
                "[attention] expected every sequence to have queries and 1..capacity slots "
                "inside the caches, got n_q " +
                std::to_string(q.n_q) + ", slots [" + std::to_string(q.slot_base) + ", " +
                std::to_string(end) + ") of caches holding " +
                std::to_string(std::min(k.capacity, v.capacity)));
        }
        cols.emplace_back(q.q_col, q.q_col + q.n_q);
    }
    std::sort(cols.begin(), cols.end());
    for (size_t i = 1; i < cols.size(); ++i) {
        if (cols[i].first < cols[i - 1].second) {
            throw std::invalid_argument("[attention] two sequences share query columns");
        }
    }
}

}  // namespace

uint32_t attention_compute_dim(const AttentionShape& shape, KvType k, KvType v) {
    return std::max(kv_stored_dim(k, shape.head_dim), kv_stored_dim(v, shape.head_dim));
}

uint32_t attention_rows_per_group(const vk::DeviceInfo& info, uint32_t head_dim, uint32_t rows) {
    const uint32_t budget = std::min(info.max_shared_memory_bytes, k_shared_cap);
    uint32_t br = 1;
    while (br < rows && br < k_max_rows && shared_bytes(2 * br, head_dim) <= budget) br *= 2;
    return br;
}

uint32_t attention_split_target(const vk::DeviceInfo& info) {
    return info.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 4 : 256;
}

AttentionPlan plan_attention(const vk::DeviceInfo& info, const AttentionShape& shape,
                             std::span<const AttentionSeq> seqs, const AttentionParams& params,
                             const KvCache& k, const KvCache& v, uint64_t max_scratch_bytes) {
    validate(shape, seqs, k, v);
    AttentionPlan plan;
    const uint32_t gqa = shape.n_heads / shape.n_kv_heads;
    uint32_t max_rows = 0, max_slots = 0, slots_end = 0;
    for (const AttentionSeq& q : seqs) {
        max_rows = std::max(max_rows, q.n_q * gqa);
        max_slots = std::max(max_slots, q.n_slots);
        slots_end = std::max(slots_end, q.slot_base + q.n_slots);
        plan.n_cols = std::max(plan.n_cols, q.q_col + q.n_q);
        plan.slot_pos_entries = std::max(plan.slot_pos_entries, q.pos_base + q.n_slots);
    }
    // One BR for the batch (a spec constant): the longest sequence's; shorter ones leave rows of
    // their last group idle.
    plan.rows_per_group =
        attention_rows_per_group(info, attention_compute_dim(shape, k.type, v.type), max_rows);
    for (const AttentionSeq& q : seqs) {
        plan.table.insert(plan.table.end(), {q.q_col, q.n_q, plan.row_groups, q.slot_base,
                                             q.n_slots, q.pos_base, 0, 0});
        plan.row_groups += vk::groups_for(uint64_t{q.n_q} * gqa, plan.rows_per_group);
    }
    // The segments some sequence scans; the others get no dispatch.
    for (const AttentionSegment& s : segments(k, v, slots_end)) {
        for (const AttentionSeq& q : seqs) {
            if (q.slot_base < s.end && s.begin < q.slot_base + q.n_slots) {
                plan.segments.push_back(s);
                break;
            }
        }
    }
    uint32_t want = params.splits;
    if (want == 0) {
        // Split-K only when the grid alone cannot fill the device (decode); never below
        // k_min_split_slots slots per split.
        const uint64_t groups = uint64_t{plan.row_groups} * shape.n_kv_heads;
        const uint64_t target = attention_split_target(info);
        want = groups >= target ? 1 : static_cast<uint32_t>((target + groups - 1) / groups);
        want = std::min(want, std::max(1u, vk::groups_for(max_slots, k_min_split_slots)));
    }
    const uint64_t entry_bytes = uint64_t{plan.n_cols} * shape.n_heads * (shape.head_dim + 2) * 4;
    for (;;) {
        const uint32_t per_split = vk::groups_for(max_slots, want);
        plan.chunk_slots = std::max(k_cols, vk::groups_for(per_split, k_cols) * k_cols);
        plan.splits = vk::groups_for(max_slots, plan.chunk_slots);
        plan.scratch_bytes = plan.total_splits() > 1 ? plan.total_splits() * entry_bytes : 0;
        if (plan.scratch_bytes <= max_scratch_bytes || plan.splits == 1) break;
        want = plan.splits - 1;
    }
    return plan;
}

void record_attention(vk::Context& ctx, vk::CommandStream& cs, const AttentionShape& shape,
                      const AttentionParams& params, const AttentionPlan& plan,
                      const AttentionArgs& args) {
    if (!args.k || !args.v) throw std::invalid_argument("[attention] expected K and V caches");
    const KvCache& k = *args.k;
    const KvCache& v = *args.v;
    const uint64_t out_bytes = uint64_t{shape.head_dim} * shape.n_heads * plan.n_cols * 4;
    need_bytes("q", args.q, out_bytes);
    need_bytes("out", args.out, out_bytes);
    need_bytes("q_pos", args.q_pos, uint64_t{plan.n_cols} * 4);
    need_bytes("slot_pos", args.slot_pos, uint64_t{plan.slot_pos_entries} * 4);
    need_bytes("seqs", args.seqs, uint64_t{plan.table.size()} * 4);
    need_bytes("scratch", args.scratch, plan.scratch_bytes);
    if (plan.scratch_bytes > ctx.device().limits().max_binding_bytes) {
        throw std::invalid_argument("[attention] split-K scratch of " +
                                    std::to_string(plan.scratch_bytes) +
                                    " bytes exceeds one binding; pass fewer queries per call");
    }

    const uint32_t gqa = shape.n_heads / shape.n_kv_heads;
    const bool softcap = params.softcap > 0.0f;
    const vk::Pipeline& fa = ctx.pipelines().get(
        {"flash_attn",
         {k_cols, plan.rows_per_group, attention_compute_dim(shape, k.type, v.type),
          static_cast<uint32_t>(k.type), static_cast<uint32_t>(v.type), softcap ? 1u : 0u, k_cols,
          shape.head_dim},
         sizeof(FlashAttnPush),
         7});
    const bool split = plan.total_splits() > 1;
    const vk::BufferSpan& dst = split ? args.scratch : args.out;
    const auto n_seqs = static_cast<uint32_t>(plan.table.size() / k_attention_seq_words);
    uint32_t split_base = 0;
    for (const AttentionSegment& s : plan.segments) {
        for (uint32_t g0 = 0; g0 < plan.row_groups; g0 += k_max_groups_x) {
            const FlashAttnPush push{plan.n_cols,
                                     shape.n_heads,
                                     gqa,
                                     shape.n_kv_heads,
                                     n_seqs,
                                     g0,
                                     s.begin,
                                     s.end,
                                     static_cast<uint32_t>(k.spans.first_row(s.k_part)),
                                     static_cast<uint32_t>(v.spans.first_row(s.v_part)),
                                     plan.chunk_slots,
                                     split_base,
                                     split ? 1u : 0u,
                                     params.window,
                                     params.scale,
                                     softcap ? params.softcap : 1.0f};
            cs.dispatch(
                fa,
                {vk::reads(args.q), vk::reads(k.spans.parts[s.k_part]),
                 vk::reads(v.spans.parts[s.v_part]), vk::reads(args.q_pos),
                 vk::reads(args.slot_pos), vk::reads(args.seqs), vk::writes(dst)},
                push,
                {std::min(plan.row_groups - g0, k_max_groups_x), shape.n_kv_heads, plan.splits});
        }
        split_base += plan.splits;
    }
    if (!split) return;
    const uint32_t rows = plan.n_cols * shape.n_heads;
    const vk::Pipeline& reduce = ctx.pipelines().get(
        {"flash_attn_split_reduce", {k_reduce_workgroup}, sizeof(ReducePush), 2});
    cs.dispatch(reduce, {vk::reads(args.scratch), vk::writes(args.out)},
                ReducePush{rows, shape.head_dim, plan.total_splits()},
                {std::min(rows, k_max_groups_x), vk::groups_for(rows, k_max_groups_x)});
}

}  // namespace vkllm::ops
