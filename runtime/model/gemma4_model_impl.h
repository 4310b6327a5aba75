#pragma once
// Internals of Gemma4Model (gemma4_model.h), shared by gemma4_model.cpp (API, planning, steps)
// and forward_graph.cpp (recording the layers). docs/design/forward.md has the design.

#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "loader/gemma4_weights_view.h"
#include "runtime/model/cpu_experts.h"
#include "runtime/model/expert_cache.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/kv_state.h"
#include "runtime/model/model_weights.h"
#include "runtime/ops/attention.h"
#include "runtime/vk/arena.h"
#include "runtime/vk/command_stream.h"

namespace vkllm {

// Bytes per activation column (one token) of every scratch buffer, and the fixed extras.
struct ScratchLayout {
    uint32_t cols = 0;          // B: max tokens per step (max(prefill chunk, n_seq))
    uint32_t logit_cols = 0;    // columns of the LM head per group
    uint64_t attn_scratch = 0;  // split-K scratch, one binding
    uint64_t pool = 0;          // per-step upload pool
    // floats per column
    uint32_t n = 0, q = 0, kv = 0, ff = 0, experts_gu = 0, experts_act = 0, experts_up = 0,
             experts_dn = 0, router = 0, route_k = 0, ple = 0, ple_l = 0;

    uint64_t column_bytes_max() const;  // the widest buffer's bytes per column
};

// Small per-step inputs written by the host into host-visible memory (ids, positions, slots,
// ring maps), bump-allocated at the binding alignment and reset every submit.
class UploadPool {
  public:
    UploadPool() = default;
    UploadPool(vk::BufferSpan span, uint64_t alignment) : span_(span), align_(alignment) {}
    void reset() { used_ = 0; }
    template <typename T>
    vk::BufferSpan put(std::span<const T> values) {
        return put_bytes(values.data(), values.size_bytes());
    }
    vk::BufferSpan put_bytes(const void* data, uint64_t bytes);

  private:
    vk::BufferSpan span_;
    uint64_t align_ = 16;
    uint64_t used_ = 0;
};

// One step's inputs in the upload pool. Every sequence owns a region of each layer's K/V cache
// (kv_state.h); the step's tokens, whatever sequence they belong to, are stored and attended in
// one dispatch per cache part (ops::AttentionSeq describes each sequence's share).
struct Step {
    uint32_t n_tokens = 0;          // T: activation columns
    vk::BufferSpan ids;             // uint32 [T]
    vk::BufferSpan pos;             // int32 [T]
    std::vector<int32_t> host_pos;  // the same positions on the host
    vk::BufferSpan swa_slots;       // uint32 [T]: cache slot of each token in a sliding layer
    vk::BufferSpan global_slots;    // uint32 [T]: cache slot of each token in a global layer
    vk::BufferSpan rings;           // int32 [entries, swa_capacity]: ring slot -> position after
    std::vector<ops::AttentionSeq> swa_seqs, global_seqs;  // one per entry, column order
    // Logits for these column runs (first, count), packed in run order into n_logits columns.
    std::vector<std::pair<uint32_t, uint32_t>> logit_runs;
    uint32_t n_logits = 0;

    // Appends a run, merged into the previous one when they touch (a decode batch's last
    // columns are adjacent: one final norm for all of them).
    void add_logit_run(uint32_t first, uint32_t count) {
        if (!logit_runs.empty() && logit_runs.back().first + logit_runs.back().second == first) {
            logit_runs.back().second += count;
        } else {
            logit_runs.emplace_back(first, count);
        }
    }
};

// What makes two layers' attentions plan alike in a step: sliding or global (which regions and
// slot maps), and the head shape. One plan per kind and step (forward_graph.cpp); the memory
// planner sizes the upload pool for one per kind.
struct AttentionKind {
    bool sliding = false;
    uint32_t head_dim = 0, n_heads = 0, n_kv_heads = 0;

    static AttentionKind of(const Gemma4LayerConfig& L) {
        return {L.is_sliding, L.head_dim, L.n_heads, L.n_kv_heads};
    }
    auto operator<=>(const AttentionKind&) const = default;
};

// The attention of a step for one kind of layer, as one or more runs over consecutive columns
// (more only when the split-K scratch cannot hold the whole batch: caches spanning bindings).
struct AttentionRun {
    uint32_t col0 = 0;  // the run's first column; its plan's columns are relative to it
    ops::AttentionPlan plan;
    vk::BufferSpan table;  // the plan's table, uploaded
    vk::BufferSpan q_pos;  // int32 [plan.n_cols]: the step's positions from col0 on
};

struct Gemma4Model::Impl {
    Impl(vk::Context& ctx, const GgufFile& file, const ModelOptions& options);

    vk::Context& ctx;
    const GgufFile& file;
    Gemma4Config cfg;
    Gemma4WeightsView view;
    ModelOptions opt;  // n_ctx resolved, prefill_chunk possibly reduced to fit a binding
    MemoryPlan plan;
    KvGeometry geom;
    ScratchLayout layout;

    // Owned device memory (destroyed after the stream, which is declared later).
    vk::Arena weight_arena, kv_arena, scratch_arena, upload_arena, readback_arena;
    DeviceWeights w;
    // Streamed experts (plan.experts.streamed): the slots w's expert matrices point at.
    std::unique_ptr<ExpertCache> experts;
    // Streamed experts computed on the CPU (ModelOptions::expert_compute not Gpu).
    std::unique_ptr<CpuExperts> cpu_experts;
    // Measures what a miss costs uploaded and computed on the CPU, on this machine.
    ExpertCache::CpuCost measure_expert_costs();
    std::vector<SeqKvState> seqs;
    // Per layer owning its cache (empty for shared-KV layers): every sequence's region, sequence
    // s at slots [s * capacity_per_seq, (s + 1) * capacity_per_seq).
    std::vector<ops::KvCache> kv_k, kv_v;

    struct Buffers {
        vk::BufferSpan h, x, q, k, v, o, p, gate, up;
        vk::BufferSpan shared, router, route_ids, route_w, gu, act, upe, dn, moe;
        vk::BufferSpan moe_groups;  // uint32: ops::moe_groups_bytes(E, k, cols), prefill experts
        vk::BufferSpan pi, pg, pil;
        vk::BufferSpan y, logits, readback, attn;
        // readback.routing, record_routing only: [k, cols] per layer, routed then predicted.
        vk::BufferSpan routing;
        // Streamed experts: a layer's route_ids read back, and each pair's cache slot.
        vk::BufferSpan route_ids_host, expert_slots, expert_staging;
        // CPU experts: the experts' input read back, and their outputs to copy into dn.
        vk::BufferSpan expert_x, expert_cpu_out;
        vk::BufferSpan xq;          // q8_1 activations of the integer mat-vec (ops/quantize_q8.h)
        vk::BufferSpan xq_glu;      // the gated mat-vec's q8_1 output (apart from its input)
        vk::BufferSpan global_pos;  // int32 [n_ctx]: slot j holds position j (global layers)
        vk::BufferSpan ple_ids;     // uint32 [L, cols_padded]: t * L + l
        uint32_t ple_ids_stride = 0;
    } buf;
    UploadPool pool;
    // Attention runs of the current step by layer kind, shared by the layers of that kind.
    std::vector<std::pair<AttentionKind, std::vector<AttentionRun>>> attention_kinds;
    vk::CommandStream cs;
    uint32_t last_dispatches = 0;  // of the last step's forward and first LM-head group
    std::vector<vk::CommandStream::DispatchTime> last_profile;        // profile_dispatches only
    std::vector<std::vector<uint32_t>> last_routing, last_predicted;  // record_routing only
    double last_record_us = 0;

    // The runs of layer l's kind in this step, planned and uploaded on first use.
    const std::vector<AttentionRun>& attention_runs(const Step& step, uint32_t l);
    // Plans `batch` (absolute columns) as one run, or halves them until each run's split-K
    // scratch fits buf.attn.
    void plan_runs(const Step& step, const ops::AttentionShape& shape,
                   std::vector<ops::AttentionSeq> batch, const ops::KvCache& k,
                   const ops::KvCache& v, std::vector<AttentionRun>& out);

    // Every allocation except the weights, as plan_model listed it (memory_plan.h).
    std::vector<PlannedBuffer> planned;
    uint64_t planned_bytes(const std::string& name) const;
    // Throws std::logic_error if an allocation differs from its planned size.
    void expect_planned(const std::string& name, uint64_t bytes) const;

    void check_seq(uint32_t seq) const;
    void check_token(int32_t token, size_t index) const;
    // Every token in the vocabulary and room for all of them in `seq` (a valid index):
    // std::invalid_argument / ContextOverflowError otherwise.
    void check_append(uint32_t seq, std::span<const int32_t> tokens) const;
    // Records the forward of `step` and the LM head of its first logit group, submits, and
    // returns [n_vocab, n_logits] (more groups take extra submits).
    std::vector<float> run(const Step& step);

    // forward_graph.cpp
    void record_forward(const Step& step);
    void record_layer(const Step& step, uint32_t l);
    void record_attention(const Step& step, uint32_t l);
    void record_mlp(uint32_t T, uint32_t l, const vk::BufferSpan& post_norm,
                    const vk::TensorSpans& out, bool add_to_out);
    void record_dense_ffn(uint32_t T, uint32_t l);
    void record_router(uint32_t T, uint32_t l);
    // The same into other buffers (ids uint32 [k, T], weights f32 [k, T]).
    void record_router_into(uint32_t T, uint32_t l, const vk::BufferSpan& ids,
                            const vk::BufferSpan& weights);
    void record_routing_copy(uint32_t T, uint32_t layer, bool predicted);
    void record_moe_ffn(uint32_t T, uint32_t l);
    // The routed experts of a MoE layer (§3.6 step 6) into buf.dn: x (normed h) through gate/up,
    // the GLU and down for every (token, expert) pair whose id in `ids` is below n_experts.
    void record_experts(uint32_t T, uint32_t l, const vk::BufferSpan& ids, uint32_t n_experts);
    // Streamed experts: the routing sync, the misses' uploads or CPU compute, and the waves.
    void record_streamed_experts(uint32_t T, uint32_t l);
    void record_ple_inputs(const Step& step);
    void record_ple(uint32_t T, uint32_t l);
    void record_head(uint32_t first_col, uint32_t cols);
    // y = w · x for `cols` columns: the mat-vec up to 8 columns (reading xq, when given, on the
    // integer path), the tiled mat-mat beyond.
    void linear(const DeviceMatrix& w, const vk::BufferSpan& x, uint32_t x_stride,
                const vk::BufferSpan& y, uint32_t y_stride, uint32_t cols,
                const std::optional<vk::BufferSpan>& xq = std::nullopt);
    // Where the q8_1 form of an input (n_x vectors of K) goes, in buf.xq, when every present
    // consumer's type takes the integer path (ops::matvec_int_dot, not turned off by
    // ModelOptions::int_dot_matvec) and n_x <= max_n_x (the mat-vec's range); else nullopt.
    // The caller has it written (by the norm that makes the input, or quantize_input) and passes
    // it to every consumer before x or buf.xq is rewritten.
    std::optional<vk::BufferSpan> q8_input(
        uint32_t K, uint32_t n_x, uint32_t max_n_x,
        std::initializer_list<const DeviceMatrix*> consumers) const;
    // q8_input, and records the quantization of x (x_stride apart) into it.
    std::optional<vk::BufferSpan> quantize_input(
        const vk::BufferSpan& x, uint32_t x_stride, uint32_t K, uint32_t n_x, uint32_t max_n_x,
        std::initializer_list<const DeviceMatrix*> consumers);
};

}  // namespace vkllm
