// Memory planning of Gemma4Model: options, scratch layout, KV and scratch bytes, the plan that
// `vkllm info` prints and the constructor checks against the device heap.
#include "runtime/model/memory_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "runtime/model/gemma4_weights_view.h"
#include "runtime/model/model_weights.h"

namespace vkllm {

namespace {

constexpr uint64_t k_mib = 1ull << 20;

uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

std::string mib(uint64_t b) {
    return std::to_string((b + k_mib / 2) / k_mib) + " MiB";
}

}  // namespace

ModelOptions resolve(const Gemma4Config& cfg, ModelOptions o) {
    if (o.n_ctx == 0) o.n_ctx = std::min<uint32_t>(cfg.n_ctx_train ? cfg.n_ctx_train : 8192, 8192);
    if (o.n_seq == 0) throw std::invalid_argument("[Gemma4Model] n_seq must be at least 1");
    if (o.prefill_chunk == 0)
        throw std::invalid_argument("[Gemma4Model] prefill_chunk must be >= 1");
    for (GgmlType t : {o.kv_k, o.kv_v}) {
        if (t != GgmlType::F16 && t != GgmlType::Q8_0) {
            throw std::invalid_argument("[Gemma4Model] KV cache type must be f16 or q8_0");
        }
    }
    o.prefill_chunk = std::min(o.prefill_chunk, o.n_ctx);
    return o;
}

ops::KvType kv_type(GgmlType t) {
    return t == GgmlType::Q8_0 ? ops::KvType::Q8_0 : ops::KvType::F16;
}

ScratchLayout make_layout(const Gemma4Config& c, const ModelOptions& o) {
    ScratchLayout s;
    s.cols = std::max(o.prefill_chunk, o.n_seq);
    s.n = c.n_embd;
    for (const Gemma4LayerConfig& L : c.layers) {
        s.q = std::max(s.q, L.q_dim());
        s.kv = std::max(s.kv, L.kv_dim());
        s.ff = std::max(s.ff, L.n_ff);
    }
    s.ff = std::max(s.ff, c.n_embd_per_layer);
    if (c.has_moe()) {
        const uint32_t k = c.n_expert_used, F = c.n_ff_expert;
        s.router = c.n_expert;
        s.route_k = k;
        s.experts_gu = 2 * F * k;
        s.experts_act = F * k;
        s.experts_up = F * k;  // the up half when a file has separate gate / up experts
        s.experts_dn = c.n_embd * k;
    }
    s.ple = c.n_embd_per_layer * c.n_layer;
    s.ple_l = c.n_embd_per_layer;
    return s;
}

uint64_t pool_bytes(const ScratchLayout& s, const ModelOptions& o, uint32_t swa_capacity,
                    uint64_t align) {
    // ids + pos, per sequence 2 slot arrays + ring, and up to `cols` query-position sub-batches
    // per layer type.
    const uint64_t entries =
        2ull * s.cols + 2ull * s.cols + uint64_t{o.n_seq} * swa_capacity + 4ull * s.cols;
    const uint64_t allocations = 2 + 3ull * o.n_seq + 4ull * s.cols + 8;
    return align_up(entries * 4 + allocations * align, 4096);
}

std::string describe(const MemoryPlan& p) {
    std::string s = "weights " + mib(p.weights) + " + KV cache " + mib(p.kv) + " + scratch " +
                    mib(p.scratch) + " = " + mib(p.total());
    if (p.device_heap) s += " (device heap " + mib(p.device_heap) + ")";
    return s;
}

uint64_t kv_bytes(const Gemma4Config& c, const ModelOptions& o, const KvGeometry& g) {
    uint64_t sum = 0;
    for (uint32_t l = 0; l < c.n_layer; ++l) {
        const Gemma4LayerConfig& L = c.layers[l];
        if (L.kv_source != l) continue;
        const uint64_t cap = L.is_sliding ? g.swa_capacity : g.n_ctx;
        sum += cap * (ops::kv_slot_bytes(kv_type(o.kv_k), L.head_dim, L.n_kv_heads) +
                      ops::kv_slot_bytes(kv_type(o.kv_v), L.head_dim, L.n_kv_heads));
    }
    return sum * o.n_seq;
}

uint32_t logit_cols(const Gemma4Config& c, const ModelOptions& o, uint32_t cols,
                    uint64_t max_binding) {
    uint64_t lc = std::min<uint64_t>(std::max<uint32_t>(o.n_seq, 8), cols);
    lc = std::min<uint64_t>(lc, max_binding / (uint64_t{c.n_vocab} * 4));
    return static_cast<uint32_t>(std::max<uint64_t>(lc, 1));
}

uint64_t fixed_bytes(const Gemma4Config& c, const ModelOptions& o, const ScratchLayout& s) {
    return uint64_t{c.n_vocab} * 4 * s.logit_cols * 2 + s.attn_scratch + s.pool +
           uint64_t{o.n_ctx} * 4 + uint64_t{c.n_layer} * align_up(s.cols, 64) * 4 +
           8ull * c.n_expert;  // per-expert counts and offsets of the prefill expert mat-mat
}

uint64_t ScratchLayout::column_bytes_max() const {
    return 4ull * std::max({n, q, kv, ff, experts_gu, experts_act, experts_dn, router, ple});
}

uint64_t ScratchLayout::total() const {
    const uint64_t per_col = 4ull * n + 4ull * q * 2 + 4ull * kv * 2 + 4ull * n * 2 +
                             4ull * ff * 2 + (router ? 4ull * n * 2 : 0) + 4ull * router +
                             12ull * route_k +  // ids, weights, expert pair lists
                             4ull * (experts_gu + experts_act + experts_up + experts_dn) +
                             8ull * ple + 4ull * ple_l + 4ull * n;
    return per_col * cols;
}

MemoryPlan Gemma4Model::plan(const GgufFile& file, const ModelOptions& options) {
    const Gemma4Config cfg = Gemma4Config::from_gguf(file);
    const Gemma4WeightsView view = Gemma4WeightsView::bind(file, cfg);
    const ModelOptions opt = resolve(cfg, options);
    ScratchLayout layout = make_layout(cfg, opt);
    uint32_t n_swa = 0;
    for (const Gemma4LayerConfig& L : cfg.layers) {
        if (L.is_sliding) n_swa = cfg.n_swa;
    }
    const KvGeometry geom = KvGeometry::make(opt.n_ctx, n_swa, layout.cols);
    layout.logit_cols = logit_cols(cfg, opt, layout.cols, 128 * k_mib);
    layout.pool = pool_bytes(layout, opt, geom.swa_capacity, 256);
    // Split-K scratch estimate (the device decides the exact split count): one split per 256
    // slots of the largest cache for every decoding sequence.
    uint64_t dec = 0;
    for (const Gemma4LayerConfig& L : cfg.layers) {
        dec = std::max<uint64_t>(
            dec, uint64_t{(opt.n_ctx + 255) / 256} * L.n_heads * (L.head_dim + 2) * 4);
    }
    layout.attn_scratch = dec * opt.n_seq;
    MemoryPlan p;
    p.weights = weights_bytes(view, 256);
    p.kv = kv_bytes(cfg, opt, geom);
    p.scratch = layout.total() + fixed_bytes(cfg, opt, layout);
    return p;
}

}  // namespace vkllm
