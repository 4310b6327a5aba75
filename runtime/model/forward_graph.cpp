// Records one step of the Gemma 4 forward pass (gemma4-model.md §3) into the model's command
// stream: embedding, per-layer inputs, every layer, the final norm and the LM head. The op order
// is the CPU reference's (reference/gemma4_*.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/align.h"
#include "runtime/model/gemma4_model_impl.h"
#include "runtime/ops/attention.h"
#include "runtime/ops/binary.h"
#include "runtime/ops/get_rows.h"
#include "runtime/ops/glu.h"
#include "runtime/ops/kv_store.h"
#include "runtime/ops/matmul.h"
#include "runtime/ops/matmul_id.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/moe_combine.h"
#include "runtime/ops/moe_route.h"
#include "runtime/ops/norm.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/rope.h"
#include "runtime/ops/row_parts.h"
#include "runtime/ops/softcap.h"

namespace vkllm {
namespace {

// Routed experts run as a grouped mat-mat (record_matmul_id) once the chunk gives the experts at
// least this many (token, slot) pairs each on average (T * k >= 8 * E: T >= 128 for 26B-A4B,
// T >= 32 for the tiny-moe fixture); smaller chunks and decode batches keep the expert mat-vec.
// An expert's column tile holds 32-128 pairs: at m pairs per expert the mat-mat reads each
// weight once instead of m times but does ~32/m times the useful multiply-adds, which a GPU
// (10-20 flop per byte of bandwidth) repays only past m ~ 6-12, and lavapipe (compute-bound)
// never: at the 26B-A4B shape with T = 8 / 16 (m < 1) the mat-mat took 30x the mat-vec's time
// there. docs/design/forward.md has the numbers.
constexpr uint32_t k_min_pairs_per_expert = 8;

// `cols` columns of `width` floats at the start of `span`.
vk::TensorSpans cols_of(const vk::BufferSpan& span, uint32_t width, uint32_t cols) {
    return ops::rows_of(span, uint64_t{width} * 4, cols);
}

// Columns [first, first + n) of a [width, *] activation buffer.
vk::BufferSpan col_span(const vk::BufferSpan& span, uint32_t width, uint32_t first, uint32_t n) {
    return span.sub(uint64_t{first} * width * 4, uint64_t{n} * width * 4);
}

}  // namespace

std::optional<vk::BufferSpan> Gemma4Model::Impl::q8_input(
    uint32_t K, uint32_t n_x, uint32_t max_n_x,
    std::initializer_list<const DeviceMatrix*> consumers) const {
    // Every present consumer must take the integer path, so that the products of one input all
    // see the same (rounded) values.
    bool any = false, all = true;
    for (const DeviceMatrix* m : consumers) {
        if (m == nullptr || !m->present()) continue;
        any = true;
        all = all && ops::matvec_int_dot(ctx.device().info(), m->type);
    }
    if (!opt.int_dot_matvec || !any || !all || K % 32 != 0 || n_x > max_n_x) return std::nullopt;
    return buf.xq.sub(0, ops::q8_1_bytes(K, n_x));
}

std::optional<vk::BufferSpan> Gemma4Model::Impl::quantize_input(
    const vk::BufferSpan& x, uint32_t x_stride, uint32_t K, uint32_t n_x, uint32_t max_n_x,
    std::initializer_list<const DeviceMatrix*> consumers) {
    const std::optional<vk::BufferSpan> xq = q8_input(K, n_x, max_n_x, consumers);
    if (xq) ops::record_quantize_q8_1(ctx, cs, {x, x_stride, K, n_x, *xq});
    return xq;
}

void Gemma4Model::Impl::linear(const DeviceMatrix& m, const vk::BufferSpan& x, uint32_t x_stride,
                               const vk::BufferSpan& y, uint32_t y_stride, uint32_t cols,
                               const std::optional<vk::BufferSpan>& xq) {
    if (cols <= ops::k_matvec_max_cols) {
        ops::MatVecArgs a;
        a.weight = m.view();
        a.x = x;
        a.x_stride = x_stride;
        a.y = y;
        a.y_stride = y_stride;
        a.ncols = cols;
        a.xq = xq;
        ops::record_matvec(ctx, cs, a);
    } else {
        ops::MatMulArgs a;
        a.weight = m.view();
        a.x = x;
        a.x_stride = x_stride;
        a.y = y;
        a.y_stride = y_stride;
        a.M = cols;
        ops::record_matmul(ctx, cs, a);
    }
}

const std::vector<AttentionRun>& Gemma4Model::Impl::attention_runs(const Step& step, uint32_t l) {
    const Gemma4LayerConfig& L = cfg.layers[l];
    const AttentionKind kind = AttentionKind::of(L);
    for (const auto& [k, runs] : attention_kinds) {
        if (k == kind) return runs;
    }
    std::vector<AttentionRun> runs;
    plan_runs(step, {L.head_dim, L.n_heads, L.n_kv_heads},
              L.is_sliding ? step.swa_seqs : step.global_seqs, kv_k[L.kv_source], kv_v[L.kv_source],
              runs);
    attention_kinds.emplace_back(kind, std::move(runs));
    return attention_kinds.back().second;
}

void Gemma4Model::Impl::plan_runs(const Step& step, const ops::AttentionShape& shape,
                                  std::vector<ops::AttentionSeq> batch, const ops::KvCache& k,
                                  const ops::KvCache& v, std::vector<AttentionRun>& out) {
    const uint32_t col0 = batch.front().q_col;
    for (ops::AttentionSeq& q : batch) q.q_col -= col0;
    ops::AttentionPlan ap =
        ops::plan_attention(ctx.device().info(), shape, batch, {}, k, v, buf.attn.size);
    if (ap.scratch_bytes <= buf.attn.size) {
        const vk::BufferSpan table = pool.put(std::span<const uint32_t>(ap.table));
        // A run starting past column 0 gets its own copy of the positions: a binding offset of
        // col0 * 4 bytes would break the device's storage buffer alignment.
        const vk::BufferSpan q_pos =
            col0 == 0 ? step.pos
                      : pool.put(std::span<const int32_t>(step.host_pos).subspan(col0, ap.n_cols));
        out.push_back({col0, std::move(ap), table, q_pos});
        return;
    }
    for (ops::AttentionSeq& q : batch) q.q_col += col0;
    if (batch.size() > 1) {
        const auto half = static_cast<std::ptrdiff_t>(batch.size() / 2);
        plan_runs(step, shape, {batch.begin(), batch.begin() + half}, k, v, out);
        plan_runs(step, shape, {batch.begin() + half, batch.end()}, k, v, out);
        return;
    }
    const ops::AttentionSeq q = batch.front();
    if (q.n_q == 1) {
        throw std::logic_error("[Gemma4Model] split-K scratch too small for one query");
    }
    // The first half of the queries scans the same slots: the mask hides the later positions.
    ops::AttentionSeq a = q, b = q;
    a.n_q = q.n_q / 2;
    b.q_col = q.q_col + a.n_q;
    b.n_q = q.n_q - a.n_q;
    plan_runs(step, shape, {a}, k, v, out);
    plan_runs(step, shape, {b}, k, v, out);
}

void Gemma4Model::Impl::record_forward(const Step& step) {
    attention_kinds.clear();
    const uint32_t T = step.n_tokens, n = cfg.n_embd;
    // §3.1: h = token_embd[x] · √n (factor in f32).
    ops::GetRowsArgs g;
    g.table = w.token_embd.view();
    g.ids = step.ids;
    g.n_tokens = T;
    g.out = buf.h;
    g.out_stride = n;
    g.scale = std::sqrt(static_cast<float>(n));
    ops::record_get_rows(ctx, cs, g);
    if (cfg.has_ple()) record_ple_inputs(step);
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        record_layer(step, l);
        // record_routing: the next layer's router on this layer's output, the prefetch forecast
        // an expert cache would start uploads from (issue #15). x and the route buffers are free
        // between layers.
        if (buf.routing.size > 0 && l + 1 < cfg.n_layer && cfg.layers[l + 1].is_moe) {
            record_router(T, l + 1);
            record_routing_copy(T, l + 1, true);
        }
        // Hand the GPU what is recorded so far (after the first layer, then every 4): recording
        // a layer costs the host ~25 dispatches x a few us, which would otherwise all come
        // before the GPU starts (a 60-layer model: milliseconds per token).
        if (l + 1 < cfg.n_layer && (l == 0 || (l + 1) % 4 == 0)) cs.flush();
    }
    // §3.8 step 1 on the columns that need logits.
    ops::RmsNormArgs r;
    r.n = n;
    r.eps = cfg.rms_eps;
    r.weight = w.output_norm;
    uint32_t packed = 0;
    for (const auto& [first, count] : step.logit_runs) {
        ops::record_rms_norm(ctx, cs, cols_of(col_span(buf.h, n, first, count), n, count),
                             cols_of(col_span(buf.y, n, packed, count), n, count), r);
        packed += count;
    }
}

// §3.2: π = (RMS_{proj_norm}(proj · e / √n) + per_layer_token_embd[x] · √P) / √2, [P·L, T].
void Gemma4Model::Impl::record_ple_inputs(const Step& step) {
    const uint32_t T = step.n_tokens, n = cfg.n_embd, P = cfg.n_embd_per_layer,
                   PL = P * cfg.n_layer;
    // Float mat-vec: its input is the residual stream, which must not be rounded in place.
    linear(w.per_layer_model_proj, buf.h, n, buf.pi, PL, T);
    const vk::TensorSpans pi = cols_of(buf.pi, PL, T), pg = cols_of(buf.pg, PL, T);
    ops::record_scale(ctx, cs, pi, pi, 1.0f / std::sqrt(static_cast<float>(n)));
    ops::RmsNormArgs r;
    r.n = P;
    r.eps = cfg.rms_eps;
    r.weight = w.per_layer_proj_norm;
    ops::record_rms_norm(ctx, cs, pi, pi, r);
    ops::GetRowsArgs g;
    g.table = w.per_layer_token_embd.view();
    g.ids = step.ids;
    g.n_tokens = T;
    g.out = buf.pg;
    g.out_stride = PL;
    g.scale = std::sqrt(static_cast<float>(P));
    ops::record_get_rows(ctx, cs, g);
    ops::record_add(ctx, cs, pi, pg, pi);
    ops::record_scale(ctx, cs, pi, pi, 1.0f / std::sqrt(2.0f));
}

void Gemma4Model::Impl::record_layer(const Step& step, uint32_t l) {
    const uint32_t T = step.n_tokens;
    record_attention(step, l);
    if (cfg.layers[l].is_moe) {
        record_moe_ffn(T, l);
    } else {
        record_dense_ffn(T, l);
    }
    if (cfg.has_ple()) record_ple(T, l);
    if (cfg.layers[l].has_output_scale) {  // §3.7: scales the whole residual stream
        const vk::TensorSpans h = cols_of(buf.h, cfg.n_embd, T);
        ops::record_scale(ctx, cs, h, h, w.layers[l].output_scale);
    }
}

// §3.4.
void Gemma4Model::Impl::record_attention(const Step& step, uint32_t l) {
    const Gemma4LayerConfig& L = cfg.layers[l];
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t T = step.n_tokens, n = cfg.n_embd, D = L.head_dim, qd = L.q_dim(),
                   kvd = L.kv_dim();
    const vk::TensorSpans h = cols_of(buf.h, n, T), x = cols_of(buf.x, n, T);

    // Q, K and V read one quantization of x on the integer path, written by the norm.
    const bool owns_kv = L.kv_source == l;
    const auto xq =
        q8_input(n, T, ops::k_matvec_max_cols,
                 {&lw.attn_q, owns_kv ? &lw.attn_k : nullptr, owns_kv ? &lw.attn_v : nullptr});
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;
    norm.weight = lw.attn_norm;
    norm.q8_out = xq;
    ops::record_rms_norm(ctx, cs, h, x, norm);
    norm.q8_out.reset();

    ops::RopeArgs rope;
    rope.head_dim = D;
    rope.n_rot = L.n_rot;
    rope.freq_base = L.rope_base;
    rope.positions = step.pos;
    if (L.rope_uses_freqs) rope.freq_factors = w.rope_freqs.sub(0, uint64_t{L.n_rot} / 2 * 4);

    ops::RmsNormArgs head_norm;
    head_norm.n = D;
    head_norm.eps = cfg.rms_eps;

    // Q: per-head q_norm, then RoPE.
    linear(lw.attn_q, buf.x, n, buf.q, qd, T, xq);
    const vk::TensorSpans q = cols_of(buf.q, qd, T);
    head_norm.weight = lw.attn_q_norm;
    ops::record_rms_norm(ctx, cs, q, q, head_norm);
    rope.n_heads = L.n_heads;
    ops::record_rope(ctx, cs, q, q, rope);

    if (owns_kv) {
        linear(lw.attn_k, buf.x, n, buf.k, kvd, T, xq);
        const vk::TensorSpans k = cols_of(buf.k, kvd, T), v = cols_of(buf.v, kvd, T);
        head_norm.weight.reset();  // V: RMS_1 of the raw projection (raw K when attn_v is absent)
        if (lw.attn_v.present()) {
            linear(lw.attn_v, buf.x, n, buf.v, kvd, T, xq);
            ops::record_rms_norm(ctx, cs, v, v, head_norm);
        } else {
            ops::record_rms_norm(ctx, cs, k, v, head_norm);
        }
        head_norm.weight = lw.attn_k_norm;
        ops::record_rms_norm(ctx, cs, k, k, head_norm);
        rope.n_heads = L.n_kv_heads;
        ops::record_rope(ctx, cs, k, k, rope);
        // Every sequence's tokens in one store: the slots point into each one's region.
        const vk::BufferSpan slots = L.is_sliding ? step.swa_slots : step.global_slots;
        ops::record_kv_store(ctx, cs, buf.k, slots, T, kv_k[l]);
        ops::record_kv_store(ctx, cs, buf.v, slots, T, kv_v[l]);
    }

    ops::AttentionParams params;
    params.scale = 1.0f;
    params.window = L.window;
    for (const AttentionRun& run : attention_runs(step, l)) {
        const uint32_t nc = run.plan.n_cols;
        ops::AttentionArgs a;
        a.q = col_span(buf.q, qd, run.col0, nc);
        a.q_pos = run.q_pos;
        a.k = &kv_k[L.kv_source];
        a.v = &kv_v[L.kv_source];
        a.slot_pos = L.is_sliding ? step.rings : buf.global_pos;
        a.seqs = run.table;
        a.out = col_span(buf.o, qd, run.col0, nc);
        a.scratch = buf.attn;
        ops::record_attention(ctx, cs, {D, L.n_heads, L.n_kv_heads}, params, run.plan, a);
    }

    linear(lw.attn_output, buf.o, qd, buf.p, n, T,
           quantize_input(buf.o, qd, qd, T, ops::k_matvec_max_cols, {&lw.attn_output}));
    norm.weight = lw.post_attention_norm;
    norm.residual = h;
    ops::record_rms_norm(ctx, cs, cols_of(buf.p, n, T), h, norm);
}

// §3.6 MLP: out = RMS_{post}(down · (gelu(gate · x) ⊙ up · x)), x = RMS_{ffn_norm}(h); the
// dense layers' FFN (post_ffw_norm, added to h) and the MoE layers' shared MLP (post_ffw_norm_1,
// into `shared`). Uses x, gate, up and p.
void Gemma4Model::Impl::record_mlp(uint32_t T, uint32_t l, const vk::BufferSpan& post_norm,
                                   const vk::TensorSpans& out, bool add_to_out) {
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t n = cfg.n_embd, f = cfg.layers[l].n_ff;
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;
    norm.weight = lw.ffn_norm;
    const auto xq = q8_input(n, T, ops::k_matvec_max_cols, {&lw.ffn_gate, &lw.ffn_up});
    norm.q8_out = xq;  // gate and up read x's q8_1 form, written by the norm
    ops::record_rms_norm(ctx, cs, cols_of(buf.h, n, T), cols_of(buf.x, n, T), norm);
    norm.q8_out.reset();
    auto down_q8 = q8_input(f, T, ops::k_matvec_max_cols, {&lw.ffn_down});  // written by the GLU
    // Decode: gate, up and the GLU in one dispatch, whose q8_1 output (integer path only)
    // cannot share buf.xq with the input it is reading.
    if (T <= ops::k_matvec_max_cols && lw.ffn_gate_up.present() &&
        ops::matvec_glu_fits(lw.ffn_gate_up.view()) && (xq || !down_q8)) {
        if (down_q8) down_q8 = buf.xq_glu.sub(0, down_q8->size);
        ops::MatVecGluArgs g;
        g.weight = lw.ffn_gate_up.view();
        g.x = buf.x;
        g.x_stride = n;
        g.xq = xq;
        g.out = buf.gate;
        g.out_stride = f;
        g.ncols = T;
        g.q8_out = down_q8;
        ops::record_matvec_glu(ctx, cs, g);
    } else {
        linear(lw.ffn_gate, buf.x, n, buf.gate, f, T, xq);
        linear(lw.ffn_up, buf.x, n, buf.up, f, T, xq);
        const vk::TensorSpans gate = cols_of(buf.gate, f, T);
        ops::record_gelu_glu(ctx, cs, gate, cols_of(buf.up, f, T), gate, down_q8);
    }
    linear(lw.ffn_down, buf.gate, f, buf.p, n, T, down_q8);
    norm.weight = post_norm;
    if (add_to_out) norm.residual = out;
    ops::record_rms_norm(ctx, cs, cols_of(buf.p, n, T), out, norm);
}

void Gemma4Model::Impl::record_dense_ffn(uint32_t T, uint32_t l) {
    const vk::TensorSpans h = cols_of(buf.h, cfg.n_embd, T);
    record_mlp(T, l, w.layers[l].post_ffw_norm, h, true);
}

// §3.6 steps 2-5: router logits on RMS_1(h) / √n ⊙ scale, softmax, top-k, renormalise, × the
// expert scale, into route_ids / route_w [k, T]. Uses x and router.
void Gemma4Model::Impl::record_router(uint32_t T, uint32_t l) {
    record_router_into(T, l, buf.route_ids, buf.route_w);
}

void Gemma4Model::Impl::record_router_into(uint32_t T, uint32_t l, const vk::BufferSpan& ids,
                                           const vk::BufferSpan& weights) {
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t n = cfg.n_embd, E = cfg.n_expert, k = cfg.n_expert_used;
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;
    norm.weight = lw.ffn_gate_inp_scale;
    norm.scale = 1.0f / std::sqrt(static_cast<float>(n));
    ops::record_rms_norm(ctx, cs, cols_of(buf.h, n, T), cols_of(buf.x, n, T), norm);
    linear(lw.ffn_gate_inp, buf.x, n, buf.router, E, T);
    ops::MoeRouteArgs route{E, k, std::nullopt};
    if (lw.ffn_down_exps_scale.size > 0) route.expert_scale = lw.ffn_down_exps_scale;
    ops::record_moe_route(ctx, cs, cols_of(buf.router, E, T), cols_of(ids, k, T),
                          cols_of(weights, k, T), route);
}

// record_routing: route_ids of `layer` into readback.routing, the routed half or the predicted
// half ([k, cols] per layer each).
void Gemma4Model::Impl::record_routing_copy(uint32_t T, uint32_t layer, bool predicted) {
    const uint64_t k = cfg.n_expert_used, bytes = k * T * 4;
    const uint64_t row = (predicted ? cfg.n_layer : 0) + layer;
    cs.copy(buf.route_ids.sub(0, bytes), buf.routing.sub(row * k * layout.cols * 4, bytes));
}

// §3.6.
void Gemma4Model::Impl::record_moe_ffn(uint32_t T, uint32_t l) {
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t n = cfg.n_embd, E = cfg.n_expert, k = cfg.n_expert_used;
    const vk::TensorSpans h = cols_of(buf.h, n, T), x = cols_of(buf.x, n, T);
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;

    // 1. Shared MLP, post-normed with post_ffw_norm_1 into `shared`.
    const vk::TensorSpans shared = cols_of(buf.shared, n, T);
    record_mlp(T, l, lw.post_ffw_norm_1, shared, false);
    // 2-5.
    record_router(T, l);
    if (buf.routing.size > 0) record_routing_copy(T, l, false);

    // 6. Experts, all resident or through the expert cache (expert_cache.h): the routed ids
    // come back to the host, which uploads what is missing and passes each pair's slot in
    // place of its expert, in waves when the layer routes more experts than it has slots.
    if (!experts) {
        record_experts(T, l, buf.route_ids, E);
    } else {
        record_streamed_experts(T, l);
    }
    ops::record_moe_combine(ctx, cs, {n, k, T, buf.dn, buf.route_w, buf.moe});

    // 7-8. Post-norm the mix, add the shared output, post-norm the sum, add to h.
    const vk::TensorSpans moe = cols_of(buf.moe, n, T);
    norm.weight = lw.post_ffw_norm_2;
    ops::record_rms_norm(ctx, cs, moe, moe, norm);
    ops::record_add(ctx, cs, shared, moe, shared);
    norm.weight = lw.post_ffw_norm;
    norm.residual = h;
    ops::record_rms_norm(ctx, cs, shared, h, norm);
}

// §3.7: h ← h + RMS_{post_norm}(proj · (gelu(inp_gate · h) ⊙ π_l)).
void Gemma4Model::Impl::record_ple(uint32_t T, uint32_t l) {
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t n = cfg.n_embd, P = cfg.n_embd_per_layer;
    // Gather slice l of every token's π (rows t·L + l of π viewed as [P, L·T]) into [P, T].
    const vk::TensorSpans pi_rows =
        ops::rows_of(buf.pi, uint64_t{P} * 4, uint64_t{layout.cols} * cfg.n_layer);
    ops::GetRowsArgs g;
    g.table = {&pi_rows, GgmlType::F32, P, layout.cols * cfg.n_layer};
    g.ids = buf.ple_ids.sub(uint64_t{l} * buf.ple_ids_stride * 4, uint64_t{T} * 4);
    g.n_tokens = T;
    g.out = buf.pil;
    g.out_stride = P;
    ops::record_get_rows(ctx, cs, g);
    // Float mat-vec on the residual stream (see record_ple_inputs); proj's input is scratch.
    linear(lw.inp_gate, buf.h, n, buf.gate, P, T);
    const vk::TensorSpans gate = cols_of(buf.gate, P, T);
    const auto proj_q8 = q8_input(P, T, ops::k_matvec_max_cols, {&lw.proj});  // written by the GLU
    ops::record_gelu_glu(ctx, cs, gate, cols_of(buf.pil, P, T), gate, proj_q8);
    linear(lw.proj, buf.gate, P, buf.p, n, T, proj_q8);
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;
    norm.weight = lw.post_norm;
    const vk::TensorSpans h = cols_of(buf.h, n, T);
    norm.residual = h;
    ops::record_rms_norm(ctx, cs, cols_of(buf.p, n, T), h, norm);
}

// §3.8 steps 2-3 for `cols` columns of y starting at `first_col`, into logits columns 0..,
// then copied to the readback buffer.
void Gemma4Model::Impl::record_head(uint32_t first_col, uint32_t cols) {
    const uint32_t n = cfg.n_embd, V = cfg.n_vocab;
    const vk::BufferSpan logits = buf.logits.sub(0, uint64_t{cols} * V * 4);
    const vk::BufferSpan y = col_span(buf.y, n, first_col, cols);
    linear(w.lm_head(), y, n, logits, V, cols,
           quantize_input(y, n, n, cols, ops::k_matvec_max_cols, {&w.lm_head()}));
    if (cfg.final_softcap > 0.0f) {
        const vk::TensorSpans z = cols_of(logits, V, cols);
        ops::record_softcap(ctx, cs, z, z, cfg.final_softcap);
    }
    cs.copy(logits, buf.readback.sub(0, logits.size));
}

void Gemma4Model::Impl::record_experts(uint32_t T, uint32_t l, const vk::BufferSpan& ids,
                                       uint32_t n_experts) {
    const DeviceLayerWeights& lw = w.layers[l];
    const uint32_t n = cfg.n_embd, E = cfg.n_expert, k = cfg.n_expert_used, F = cfg.n_ff_expert;
    const vk::TensorSpans h = cols_of(buf.h, n, T), x = cols_of(buf.x, n, T);
    ops::RmsNormArgs norm;
    norm.n = n;
    norm.eps = cfg.rms_eps;
    // Experts on RMS_{pre_ffw_norm_2}(h); on the integer path for decode-sized steps, the
    // norm also writes x's q8_1 form (buf.xq holds 8 tokens' slots).
    const bool use_matmul_id =
        T > ops::k_matvec_max_cols && uint64_t{T} * k >= uint64_t{k_min_pairs_per_expert} * E;
    const uint32_t max_xq = use_matmul_id ? 0 : ops::k_matvec_max_cols;
    norm.weight = lw.pre_ffw_norm_2;
    norm.q8_out =
        q8_input(n, T, max_xq, {&lw.ffn_gate_up_exps, &lw.ffn_gate_exps, &lw.ffn_up_exps});
    ops::record_rms_norm(ctx, cs, h, x, norm);
    ops::MatVecIdArgs e;
    e.xq = norm.q8_out;
    norm.q8_out.reset();
    e.n_experts = n_experts;
    e.ids = ids;
    e.ids_stride = k;
    e.n_used = k;
    e.n_tokens = T;
    e.x = buf.x;
    e.x_stride = n;
    // The first expert mat-mat of the layer groups the pairs by expert; the others reuse it.
    bool grouped = false;
    const auto run_experts = [&] {
        if (!use_matmul_id) {
            ops::record_matvec_id(ctx, cs, e);
            return;
        }
        ops::MatMulIdArgs m;
        static_cast<ops::MatVecIdArgs&>(m) = e;
        m.groups = buf.moe_groups;
        m.grouped = grouped;
        ops::record_matmul_id(ctx, cs, m);
        grouped = true;
    };
    const vk::TensorSpans act = cols_of(buf.act, F, k * T);
    // The down projection's q8_1 input, written by the GLU (after the gate/up experts read x's).
    auto down_q8 = q8_input(F, k * T, max_xq * k, {&lw.ffn_down_exps});
    if (!use_matmul_id && lw.ffn_gate_up_exps.present() &&
        ops::matvec_glu_fits(lw.ffn_gate_up_exps.view()) && (e.xq || !down_q8)) {
        // Decode: gate, up and the GLU of every routed expert in one dispatch, its q8_1 output
        // (integer path) apart from the input it reads (buf.xq).
        if (down_q8) down_q8 = buf.xq_glu.sub(0, down_q8->size);
        e.weight = lw.ffn_gate_up_exps.view();
        e.n_rows = 2 * F;
        e.y = buf.act;
        e.y_stride = F;
        ops::record_matvec_id_glu(ctx, cs, e, down_q8);
    } else if (lw.ffn_gate_up_exps.present()) {
        e.weight = lw.ffn_gate_up_exps.view();
        e.n_rows = 2 * F;
        e.y = buf.gu;
        e.y_stride = 2 * F;
        run_experts();
        ops::record_gelu_glu_fused(ctx, cs, cols_of(buf.gu, 2 * F, k * T), act, F, down_q8);
    } else {
        e.n_rows = F;
        e.y_stride = F;
        e.weight = lw.ffn_gate_exps.view();
        e.y = buf.gu;
        run_experts();
        e.weight = lw.ffn_up_exps.view();
        e.y = buf.upe;
        run_experts();
        ops::record_gelu_glu(ctx, cs, cols_of(buf.gu, F, k * T), cols_of(buf.upe, F, k * T), act,
                             down_q8);
    }
    e.weight = lw.ffn_down_exps.view();
    e.n_rows = n;
    e.x = buf.act;
    e.x_stride = F;
    e.x_per_slot = true;
    e.xq = down_q8;
    e.y = buf.dn;
    e.y_stride = n;
    run_experts();
}

void Gemma4Model::Impl::record_streamed_experts(uint32_t T, uint32_t l) {
    const uint32_t n = cfg.n_embd, k = cfg.n_expert_used;
    const uint64_t bytes = uint64_t{k} * T * 4;
    cs.copy(buf.route_ids.sub(0, bytes), buf.route_ids_host.sub(0, bytes));
    if (cpu_experts) {  // the experts' input for the CPU: RMS_{pre_ffw_norm_2}(h), as below
        ops::RmsNormArgs norm;
        norm.n = n;
        norm.eps = cfg.rms_eps;
        norm.weight = w.layers[l].pre_ffw_norm_2;
        ops::record_rms_norm(ctx, cs, cols_of(buf.h, n, T), cols_of(buf.x, n, T), norm);
        cs.copy(buf.x.sub(0, uint64_t{n} * T * 4), buf.expert_x.sub(0, uint64_t{n} * T * 4));
    }
    // Prefetch forecast: the next MoE layer's router on this layer's input (the residual after
    // its attention), into route_ids (already copied out) and upe (free until the experts).
    uint32_t next = l + 1;
    while (next < cfg.n_layer && !cfg.layers[next].is_moe) ++next;
    const bool forecast = opt.expert_prefetch && next < cfg.n_layer;
    if (forecast) {
        record_router_into(T, next, buf.route_ids, buf.upe);
        cs.copy(buf.route_ids.sub(0, bytes), buf.route_ids_host.sub(bytes, bytes));
    }
    const auto t0 = std::chrono::steady_clock::now();
    cs.sync();
    std::vector<uint32_t> ids(uint64_t{k} * T), predicted;
    std::memcpy(ids.data(), buf.route_ids_host.mapped, bytes);
    if (forecast) {
        predicted.resize(ids.size());
        std::memcpy(predicted.data(), buf.route_ids_host.mapped + bytes, bytes);
    }
    experts->add_route_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const uint32_t waves = experts->route(l, ids);

    // Misses computed on the CPU: their rows of dn come from the host.
    if (!experts->cpu_experts().empty()) {
        const auto t1 = std::chrono::steady_clock::now();
        const float* x = reinterpret_cast<const float*>(buf.expert_x.mapped);
        float* out = reinterpret_cast<float*>(buf.expert_cpu_out.mapped);
        std::vector<CpuExperts::Job> jobs;
        std::vector<uint32_t> pairs;  // dn row of each output, in output order
        for (const uint32_t e : experts->cpu_experts()) {
            CpuExperts::Job job;
            job.expert = e;
            for (uint32_t p = 0; p < ids.size(); ++p) {
                if (ids[p] != e) continue;
                job.x.push_back(x + uint64_t{p / k} * n);
                job.y.push_back(out + uint64_t{pairs.size()} * n);
                pairs.push_back(p);
            }
            jobs.push_back(std::move(job));
        }
        cpu_experts->run(l, jobs);
        const uint64_t row = uint64_t{n} * 4;
        for (size_t i = 0; i < pairs.size(); ++i) {
            cs.copy(buf.expert_cpu_out.sub(i * row, row), buf.dn.sub(pairs[i] * row, row));
        }
        experts->add_cpu(
            pairs.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
    }
    // Waves need no sync: a wave's slot copies wait (barriers) for the kernels of the wave
    // before, and each wave's pair slots have their own place in buf.expert_slots.
    const uint64_t stride = align_up(bytes, ctx.device().limits().binding_alignment);
    for (uint32_t wave = 0; wave < waves; ++wave) {
        const std::vector<uint32_t> slots = experts->load_wave(wave, cs);
        if (std::all_of(slots.begin(), slots.end(),
                        [](uint32_t s) { return s == ExpertCache::k_skip; })) {
            continue;  // every expert of the step went to the CPU
        }
        const vk::BufferSpan at = buf.expert_slots.sub(wave * stride, bytes);
        std::memcpy(at.mapped, slots.data(), bytes);
        record_experts(T, l, at, experts->slots());
    }
    // The forecast experts' copies have no hazard with the work recorded since, so the GPU can
    // run them alongside this layer's experts and the next layer's attention.
    if (forecast) experts->prefetch(next, predicted, cs);
}

}  // namespace vkllm
