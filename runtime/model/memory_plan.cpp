// The memory planner of Gemma4Model (memory_plan.h): options, scratch layout, and every
// allocation of a load, from the config and the device's limits alone.
#include "runtime/model/memory_plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/align.h"
#include "loader/gemma4_weights_view.h"
#include "runtime/model/model_weights.h"
#include "runtime/ops/attention.h"
#include "runtime/ops/matmul_id.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/vk/device.h"

namespace vkllm {

namespace {

constexpr uint64_t k_mib = 1ull << 20;

std::string mib(uint64_t b) {
    return std::to_string((b + k_mib / 2) / k_mib) + " MiB";
}

// To 0.01 MiB, for sizes that whole MiB would hide (an expert of a small model).
std::string mib2(uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / static_cast<double>(k_mib));
    return buf;
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

// Kinds of attention layer (AttentionKind): each gets its own plan per step.
uint32_t attention_kinds(const Gemma4Config& c) {
    std::set<AttentionKind> kinds;
    for (const Gemma4LayerConfig& L : c.layers) kinds.insert(AttentionKind::of(L));
    return static_cast<uint32_t>(kinds.size());
}

uint64_t pool_bytes(const Gemma4Config& c, const ScratchLayout& s, const ModelOptions& o,
                    uint32_t swa_capacity, uint64_t align) {
    // ids, positions, sliding and global slots [cols] each, the rings of every sequence, and per
    // attention kind the sequence tables and positions of its runs: at most n_seq + cols runs
    // when the scratch forces halving down to single queries, positions for each column once.
    const uint64_t kinds = attention_kinds(c), runs = kinds * (o.n_seq + s.cols);
    const uint64_t entries = 4ull * s.cols + uint64_t{o.n_seq} * swa_capacity +
                             runs * ops::k_attention_seq_words + kinds * s.cols;
    const uint64_t allocations = 5 + 2 * runs;
    return align_up(entries * 4 + allocations * align, 4096);
}

uint32_t logit_cols(const Gemma4Config& c, const ModelOptions& o, uint32_t cols,
                    uint64_t max_binding) {
    uint64_t lc = std::min<uint64_t>(std::max<uint32_t>(o.n_seq, 8), cols);
    lc = std::min<uint64_t>(lc, max_binding / (uint64_t{c.n_vocab} * 4));
    return static_cast<uint32_t>(std::max<uint64_t>(lc, 1));
}

// A cache with the parts Arena::allocate_rows would give it and no memory behind them: enough
// for plan_attention, which only reads the shape and the part boundaries.
ops::KvCache shape_only_cache(ops::KvType type, uint32_t head_dim, uint32_t n_kv_heads,
                              uint32_t capacity, const PlanDevice& d) {
    ops::KvCache c;
    c.type = type;
    c.head_dim = head_dim;
    c.n_kv_heads = n_kv_heads;
    c.capacity = capacity;
    c.spans.row_bytes = ops::kv_slot_bytes(type, head_dim, n_kv_heads);
    c.spans.rows = capacity;
    const uint64_t cap = std::min(d.max_binding_bytes, d.max_allocation_bytes);
    c.spans.rows_per_part =
        std::max<uint64_t>(1, std::min<uint64_t>(capacity, cap / c.spans.row_bytes));
    const uint64_t parts = (uint64_t{capacity} + c.spans.rows_per_part - 1) / c.spans.rows_per_part;
    c.spans.parts.resize(std::max<uint64_t>(parts, 1));
    return c;
}

}  // namespace

uint64_t ScratchLayout::column_bytes_max() const {
    return 4ull * std::max({n, q, kv, ff, experts_gu, experts_act, experts_dn, router, ple});
}

std::string kv_buffer_name(uint32_t layer, char k_or_v) {
    return "kv.l" + std::to_string(layer) + "." + k_or_v;
}

const char* home_name(BufferHome home) {
    switch (home) {
        case BufferHome::Weights:
            return "weights";
        case BufferHome::Kv:
            return "kv";
        case BufferHome::Scratch:
            return "scratch";
        case BufferHome::Upload:
            return "upload";
        case BufferHome::Readback:
            return "readback";
    }
    return "?";
}

PlanDevice PlanDevice::of(const vk::Device& device) {
    PlanDevice d;
    d.info = device.info();
    d.max_binding_bytes = device.limits().max_binding_bytes;
    d.max_allocation_bytes = device.limits().max_allocation_bytes;
    d.binding_alignment = device.limits().binding_alignment;
    const auto& mem = device.memory_properties();
    for (uint32_t h = 0; h < mem.memoryHeapCount; ++h) {
        if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
            d.device_heap = std::max<uint64_t>(d.device_heap, mem.memoryHeaps[h].size);
        }
    }
    return d;
}

PlanDevice PlanDevice::generic() {
    PlanDevice d;
    d.info.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    d.info.subgroup_size = 32;
    d.info.max_shared_memory_bytes = 32768;
    d.info.max_workgroup_invocations = 1024;
    d.max_binding_bytes = 128 * k_mib;
    d.max_allocation_bytes = 1ull << 30;
    d.binding_alignment = 256;
    return d;
}

uint64_t ModelPlan::bytes(BufferHome home) const {
    if (home == BufferHome::Weights) return weight_bytes;
    uint64_t sum = 0;
    for (const PlannedBuffer& b : buffers) {
        if (b.home == home) sum += b.bytes;
    }
    return sum;
}

uint64_t MemoryPlan::limit() const {
    if (experts.budget == 0) return device_heap;
    return device_heap ? std::min(device_heap, experts.budget) : experts.budget;
}

uint64_t resolve_vram_budget(uint64_t requested, uint64_t device_heap) {
    if (requested != k_vram_budget_auto) return requested;
    if (device_heap == 0) return 0;  // no device to size it from: no budget
    // Leave room for the display, other processes and driver allocations: 5 %, >= 256 MiB.
    const uint64_t margin = std::max<uint64_t>(device_heap / 20, 256 * k_mib);
    return device_heap > margin ? device_heap - margin : device_heap / 2;
}

uint64_t parse_vram_budget(const std::string& text) {
    std::string s;
    for (char c : text) {
        if (c != ' ') s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (s == "auto") return k_vram_budget_auto;
    size_t digits = 0;
    while (digits < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[digits])) != 0 || s[digits] == '.')) {
        ++digits;
    }
    const std::string unit = s.substr(digits);
    static const std::pair<const char*, double> k_units[] = {{"", 1.0},
                                                             {"b", 1.0},
                                                             {"kib", 1024.0},
                                                             {"mib", 1048576.0},
                                                             {"gib", 1073741824.0},
                                                             {"tib", 1099511627776.0},
                                                             {"kb", 1e3},
                                                             {"mb", 1e6},
                                                             {"gb", 1e9},
                                                             {"tb", 1e12},
                                                             {"k", 1024.0},
                                                             {"m", 1048576.0},
                                                             {"g", 1073741824.0}};
    for (const auto& [name, scale] : k_units) {
        if (unit != name || digits == 0) continue;
        try {
            const double v = std::stod(s.substr(0, digits)) * scale;
            if (v >= 1.0 && v < 1.8e19) return static_cast<uint64_t>(v);
        } catch (const std::exception&) {
            break;
        }
    }
    throw std::invalid_argument("bad VRAM budget '" + text +
                                "': expected bytes with an optional unit (8GiB, 512MiB, 24GB) or "
                                "auto");
}

void ModelPlan::check_fits() const {
    const ExpertCachePlan& ex = totals.experts;
    if (ex.streamed && ex.slots_per_layer == 0) {
        const uint64_t rest = totals.total();
        if (rest >= ex.budget) {
            throw std::runtime_error("the model does not fit the VRAM budget of " +
                                     mib2(ex.budget) +
                                     " even without its experts: " + mib2(ex.non_expert_bytes) +
                                     " of non-expert weights + KV cache " + mib2(totals.kv) +
                                     " + scratch " + mib2(totals.scratch) + " = " + mib2(rest) +
                                     "; raise --vram-budget or lower --ctx / --parallel");
        }
        throw std::runtime_error(
            "the VRAM budget of " + mib2(ex.budget) + " leaves " + mib2(ex.budget - rest) +
            " for experts after " + mib2(rest) +
            " of non-expert weights, KV cache and scratch, less than one expert in each of the " +
            std::to_string(ex.moe_layers) + " MoE layers (" + mib2(ex.slot_row_bytes) +
            "); raise --vram-budget by " + mib2(ex.slot_row_bytes - (ex.budget - rest)) +
            " or lower --ctx / --parallel");
    }
    const uint64_t limit = totals.limit();
    if (!limit || totals.total() <= limit) return;
    const bool by_budget = ex.budget && (!totals.device_heap || ex.budget < totals.device_heap);
    std::string msg = std::string("the model does not fit ") +
                      (by_budget ? "the VRAM budget of " + mib(ex.budget) : "the device") + ": " +
                      describe(totals);
    if (with_tq3) {
        msg += "; with --kv-k tq3 --kv-v tq3 (3.125 bits per element) the KV cache takes " +
               mib(with_tq3->kv) + " and the total is " + mib(with_tq3->total());
        if (with_tq3->total() <= with_tq3->limit()) {
            msg += ", which fits";
        } else {
            msg += ", still " + mib(with_tq3->total() - with_tq3->limit()) +
                   " over: use tq3 and a smaller context (--ctx) or fewer parallel sequences";
        }
    } else {
        msg += "; try a smaller context (--ctx) or fewer parallel sequences";
    }
    throw std::runtime_error(msg);
}

WeightBytes weight_bytes_of(const Gemma4WeightsView& view) {
    WeightBytes w;
    w.bytes = weights_bytes(view, 1);
    w.tensors = weight_tensor_count(view);
    for (const Gemma4LayerWeights& L : view.layers) {
        uint64_t layer = 0;  // one expert of this layer
        for (const TensorInfo* t : L.expert_tensors()) {
            if (t == nullptr) continue;
            w.expert_bytes += t->size_bytes;
            w.expert_tensors += 1;
            w.expert_sizes.push_back(t->size_bytes / t->ne[2]);  // {.., .., E}
            w.expert_slot_row_bytes += w.expert_sizes.back();
            layer += w.expert_sizes.back();
        }
        w.expert_layer_max_bytes = std::max(w.expert_layer_max_bytes, layer);
    }
    return w;
}

std::vector<PlannedBuffer> expert_streaming_buffers(const Gemma4Config& cfg,
                                                    const WeightBytes& weights,
                                                    const ScratchLayout& layout, uint64_t alignment,
                                                    bool cpu) {
    const uint64_t pairs = uint64_t{cfg.n_expert_used} * layout.cols * 4;
    // A wave holds at least one expert, so a layer runs at most min(E, k x cols) waves.
    const uint64_t waves =
        std::min<uint64_t>(cfg.n_expert, uint64_t{cfg.n_expert_used} * layout.cols);
    uint64_t largest = 0;  // one expert of one tensor
    for (const uint64_t e : weights.expert_sizes) largest = std::max(largest, e);
    const uint64_t staging = std::max(
        largest,
        std::min(k_expert_staging_max,
                 uint64_t{cfg.n_expert_used} * std::max(weights.expert_layer_max_bytes, largest)));
    std::vector<PlannedBuffer> b = {
        {"readback.route_ids", BufferHome::Readback, 2 * pairs},  // routed, then forecast
        {"upload.expert_slots", BufferHome::Upload, align_up(pairs, alignment) * waves},
        {"upload.expert_staging", BufferHome::Upload, staging}};
    if (cpu) {  // the experts' input read back, and the CPU experts' outputs
        b.push_back(
            {"readback.expert_x", BufferHome::Readback, uint64_t{cfg.n_embd} * layout.cols * 4});
        b.push_back({"upload.expert_cpu_out", BufferHome::Upload,
                     uint64_t{cfg.n_embd} * k_cpu_expert_pairs * 4});
    }
    return b;
}

uint64_t expert_pool_bytes(uint64_t expert_bytes, uint32_t slots, uint64_t max_binding_bytes,
                           uint64_t alignment) {
    if (expert_bytes == 0 || slots == 0) return 0;
    const uint64_t per_part = std::max<uint64_t>(1, max_binding_bytes / expert_bytes);
    const uint64_t parts = (slots + per_part - 1) / per_part;
    return uint64_t{slots} * expert_bytes + parts * alignment;
}

ModelPlan plan_model(const Gemma4Config& cfg, const WeightBytes& weights,
                     const ModelOptions& options, const PlanDevice& d) {
    ModelPlan p;
    p.opt = resolve(cfg, options);
    ModelOptions& opt = p.opt;
    const uint64_t align = std::max<uint64_t>(d.binding_alignment, 1);
    for (const Gemma4LayerConfig& L : cfg.layers) {
        if ((uint64_t{L.q_dim()} * 4) % align || (uint64_t{L.kv_dim()} * 4) % align ||
            (uint64_t{cfg.n_embd} * 4) % align) {
            throw std::runtime_error(
                "[Gemma4Model] activation widths are not multiples of the "
                "device's storage buffer alignment");
        }
    }
    // Shrink the prefill chunk until one column-batch of the widest buffer fits a binding.
    p.layout = make_layout(cfg, opt);
    const uint64_t max_cols = std::min<uint64_t>(d.max_binding_bytes / p.layout.column_bytes_max(),
                                                 d.max_binding_bytes / 4 / cfg.n_embd);
    if (max_cols < opt.n_seq) {
        throw std::runtime_error("[Gemma4Model] " + std::to_string(opt.n_seq) +
                                 " sequences do not fit one storage binding per activation");
    }
    opt.prefill_chunk = static_cast<uint32_t>(std::min<uint64_t>(opt.prefill_chunk, max_cols));
    ScratchLayout& layout = p.layout;
    layout = make_layout(cfg, opt);
    uint32_t n_swa = 0;
    for (const Gemma4LayerConfig& L : cfg.layers) {
        if (L.is_sliding) n_swa = cfg.n_swa;
    }
    p.geom = KvGeometry::make(opt.n_ctx, n_swa, layout.cols);
    layout.logit_cols = logit_cols(cfg, opt, layout.cols, d.max_binding_bytes);
    layout.pool = pool_bytes(cfg, layout, opt, p.geom.swa_capacity, align);

    // KV caches: K and V of every layer that owns its cache, each holding every sequence's
    // region (kv_state.h). Per kind (sliding, global), what a token costs (formats.md §4.2).
    std::map<uint32_t, std::pair<ops::KvCache, ops::KvCache>>& owner_caches = p.kv_caches;
    KvKindPlan kinds[2];  // sliding, global
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        const Gemma4LayerConfig& L = cfg.layers[l];
        if (L.kv_source != l) continue;
        const uint32_t cap = L.is_sliding ? p.geom.swa_capacity : p.geom.n_ctx;
        const uint64_t k_slot = ops::kv_slot_bytes(kv_type(opt.kv_k), L.head_dim, L.n_kv_heads);
        const uint64_t v_slot = ops::kv_slot_bytes(kv_type(opt.kv_v), L.head_dim, L.n_kv_heads);
        p.buffers.push_back(
            {kv_buffer_name(l, 'k'), BufferHome::Kv, uint64_t{opt.n_seq} * cap * k_slot});
        p.buffers.push_back(
            {kv_buffer_name(l, 'v'), BufferHome::Kv, uint64_t{opt.n_seq} * cap * v_slot});
        owner_caches[l] = {
            shape_only_cache(kv_type(opt.kv_k), L.head_dim, L.n_kv_heads, opt.n_seq * cap, d),
            shape_only_cache(kv_type(opt.kv_v), L.head_dim, L.n_kv_heads, opt.n_seq * cap, d)};
        KvKindPlan& kind = kinds[L.is_sliding ? 0 : 1];
        kind.sliding = L.is_sliding;
        kind.layer_token_bytes =
            kind.layers == 0 || kind.layer_token_bytes == k_slot + v_slot ? k_slot + v_slot : 0;
        kind.layers += 1;
        kind.k_token_bytes += k_slot;
        kind.v_token_bytes += v_slot;
        kind.slots = cap;
        kind.bytes += uint64_t{opt.n_seq} * cap * (k_slot + v_slot);
    }
    // Split-K attention scratch: the larger of a decode step of every sequence at full context
    // and one prefill chunk at full context, within one binding. Other steps that would need more
    // (only possible when caches span bindings) run their attention in several parts.
    uint64_t need = 16;
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        const Gemma4LayerConfig& L = cfg.layers[l];
        const auto& [kc, vc] = owner_caches.at(L.kv_source);
        const uint32_t cap = kc.capacity / opt.n_seq;
        const ops::AttentionShape sh{L.head_dim, L.n_heads, L.n_kv_heads};
        std::vector<ops::AttentionSeq> decode;
        for (uint32_t s = 0; s < opt.n_seq; ++s) decode.push_back({s, 1, s * cap, cap, 0});
        need = std::max(need, ops::plan_attention(d.info, sh, decode, {}, kc, vc).scratch_bytes);
        const ops::AttentionSeq prefill{0, std::min(opt.prefill_chunk, cap), 0, cap, 0};
        need = std::max(
            need,
            ops::plan_attention(d.info, sh, std::span(&prefill, 1), {}, kc, vc).scratch_bytes);
    }
    layout.attn_scratch = std::min<uint64_t>(d.max_binding_bytes, align_up(need, align));

    // Activations, B columns each (docs/design/forward.md lists what each holds).
    const uint64_t B = layout.cols;
    const auto act = [&](const char* name, uint32_t width) {
        p.buffers.push_back({std::string("scratch.") + name, BufferHome::Scratch,
                             std::max<uint64_t>(4ull * width * B, 16)});
    };
    act("h", layout.n);
    act("x", layout.n);
    act("p", layout.n);
    act("y", layout.n);
    act("q", layout.q);
    act("o", layout.q);
    act("k", layout.kv);
    act("v", layout.kv);
    act("gate", layout.ff);
    act("up", layout.ff);
    if (cfg.has_moe()) {
        act("shared", layout.n);
        act("moe", layout.n);
        act("router", layout.router);
        act("route_ids", layout.route_k);
        act("route_w", layout.route_k);
        act("gu", layout.experts_gu);
        act("act", layout.experts_act);
        act("upe", layout.experts_up);
        act("dn", layout.experts_dn);
        p.buffers.push_back({"scratch.moe_groups", BufferHome::Scratch,
                             ops::moe_groups_bytes(cfg.n_expert, cfg.n_expert_used, layout.cols)});
    }
    if (cfg.has_ple()) {
        act("pi", layout.ple);
        act("pg", layout.ple);
        act("pil", layout.ple_l);
    }
    p.buffers.push_back({"scratch.attn", BufferHome::Scratch, layout.attn_scratch});
    // q8_1 activations of the integer mat-vec: the widest mat-vec input at mat-vec width (its
    // columns; that many tokens' expert slots for the experts' down projection).
    const uint32_t xq_width = std::max({layout.n, layout.q, layout.ff, cfg.n_ff_expert});
    const uint32_t xq_vectors = ops::k_matvec_max_cols * std::max<uint32_t>(1, cfg.n_expert_used);
    p.buffers.push_back(
        {"scratch.xq", BufferHome::Scratch,
         ops::q8_1_bytes(static_cast<uint32_t>(align_up(xq_width, 32)), xq_vectors)});
    // The gated mat-vec's q8_1 output (the down projection's input): it cannot go to scratch.xq,
    // which holds the input the same dispatch is still reading.
    p.buffers.push_back(
        {"scratch.xq_glu", BufferHome::Scratch,
         std::max(
             ops::q8_1_bytes(static_cast<uint32_t>(align_up(layout.ff, 32)),
                             ops::k_matvec_max_cols),
             ops::q8_1_bytes(static_cast<uint32_t>(align_up(cfg.n_ff_expert, 32)), xq_vectors))});
    const uint64_t logit_bytes = uint64_t{cfg.n_vocab} * 4 * layout.logit_cols;
    p.buffers.push_back({"scratch.logits", BufferHome::Scratch, logit_bytes});
    p.buffers.push_back({"readback.logits", BufferHome::Readback, logit_bytes});
    if (opt.record_routing && cfg.has_moe()) {
        p.buffers.push_back({"readback.routing", BufferHome::Readback,
                             2ull * cfg.n_layer * cfg.n_expert_used * layout.cols * 4});
    }
    p.buffers.push_back({"upload.global_pos", BufferHome::Upload, uint64_t{opt.n_ctx} * 4});
    if (cfg.has_ple()) {
        p.buffers.push_back(
            {"upload.ple_ids", BufferHome::Upload, align_up(B, 64) * cfg.n_layer * 4});
    }
    p.buffers.push_back({"upload.pool", BufferHome::Upload, layout.pool});

    p.weight_bytes = weights.bytes;
    p.totals.weights = weights.bytes + weights.tensors * align;
    p.totals.device_heap = d.device_heap;
    for (const PlannedBuffer& b : p.buffers) {
        const uint64_t padded = align_up(b.bytes, align);
        (b.home == BufferHome::Kv ? p.totals.kv : p.totals.scratch) += padded;
    }
    p.totals.n_ctx = opt.n_ctx;
    p.totals.n_ctx_train = cfg.n_ctx_train;
    p.totals.n_seq = opt.n_seq;
    p.totals.kv_k = opt.kv_k;
    p.totals.kv_v = opt.kv_v;
    for (const KvKindPlan& kind : kinds) {
        if (kind.layers) p.totals.kv_kinds.push_back(kind);
    }

    // A VRAM budget that does not hold every expert: the rest of the plan stays, the experts
    // become an expert cache of the slots the budget leaves (docs/design/moe-streaming.md).
    ExpertCachePlan& ex = p.totals.experts;
    ex.budget = resolve_vram_budget(opt.vram_budget, d.device_heap);
    ex.expert_bytes = weights.expert_bytes;
    ex.slot_row_bytes = weights.expert_slot_row_bytes;
    ex.non_expert_bytes = weights.bytes - weights.expert_bytes;
    for (const Gemma4LayerConfig& L : cfg.layers) ex.moe_layers += L.is_moe ? 1 : 0;
    ex.total_experts = uint64_t{ex.moe_layers} * cfg.n_expert;
    ex.slots_per_layer = cfg.n_expert;
    const uint64_t cap = std::min(d.max_binding_bytes, d.max_allocation_bytes);
    const auto cache_bytes = [&](uint32_t slots) {
        uint64_t sum = 0;
        for (const uint64_t e : weights.expert_sizes)
            sum += expert_pool_bytes(e, slots, cap, align);
        return sum;
    };
    const bool forced = opt.expert_slots > 0 && opt.expert_slots < cfg.n_expert;
    if (ex.total_experts && ex.slot_row_bytes &&
        (forced || (ex.budget && p.totals.total() > ex.budget))) {
        // Every MoE layer gets the same number of slots (docs/design/moe-streaming.md), after
        // the buffers streaming adds (expert_streaming_buffers).
        const std::vector<PlannedBuffer> extra = expert_streaming_buffers(
            cfg, weights, layout, align, opt.expert_compute != ExpertCompute::Gpu);
        uint64_t extra_bytes = 0;
        for (const PlannedBuffer& b : extra) extra_bytes += align_up(b.bytes, align);
        const uint64_t resident = weights.expert_bytes + weights.expert_tensors * align;
        const uint64_t rest = p.totals.total() - resident + extra_bytes;
        uint32_t s = opt.expert_slots;
        if (!forced) {
            const uint64_t room = ex.budget > rest ? ex.budget - rest : 0;
            s = static_cast<uint32_t>(std::min<uint64_t>(cfg.n_expert, room / ex.slot_row_bytes));
            while (s > 0 && cache_bytes(s) > room) --s;  // part alignment
        }
        ex.slots_per_layer = s;
        ex.streamed = s < cfg.n_expert;
        if (ex.streamed) {
            ex.cache_bytes = cache_bytes(s);
            p.totals.weights = p.totals.weights - resident + ex.cache_bytes;
            p.totals.scratch += extra_bytes;
            p.buffers.insert(p.buffers.end(), extra.begin(), extra.end());
        } else {
            ex.slots_per_layer = cfg.n_expert;
        }
    }
    ex.slots = uint64_t{ex.slots_per_layer} * ex.moe_layers;

    // Does not fit: what a turbo3 cache would take, for the refusal to name (the same plan but
    // for the KV types; the scratch can differ a little through the caches' part boundaries).
    const auto small = [](GgmlType t) {
        return t == GgmlType::TURBO3_0 || t == GgmlType::TURBO2_0;
    };
    // (Any head dim can take turbo3: heads are padded to 128, kv_store.h.)
    if (p.totals.limit() && p.totals.total() > p.totals.limit() &&
        !(small(opt.kv_k) && small(opt.kv_v))) {
        ModelOptions tq3 = options;
        tq3.kv_k = tq3.kv_v = GgmlType::TURBO3_0;
        p.with_tq3 = plan_model(cfg, weights, tq3, d).totals;
    }
    return p;
}

ModelOptions resolve(const Gemma4Config& cfg, ModelOptions o) {
    if (o.n_ctx == 0) o.n_ctx = std::min<uint32_t>(cfg.n_ctx_train ? cfg.n_ctx_train : 8192, 8192);
    if (o.n_seq == 0) throw std::invalid_argument("[Gemma4Model] n_seq must be at least 1");
    const uint32_t max_ctx = std::max(cfg.n_ctx_train, k_max_ctx_past_training);
    if (o.n_ctx > max_ctx) {
        throw std::invalid_argument("[Gemma4Model] a context of " + std::to_string(o.n_ctx) +
                                    " tokens is more than vkllm runs: at most " +
                                    std::to_string(max_ctx) + " (the model was trained on " +
                                    std::to_string(cfg.n_ctx_train) + "; past that, up to " +
                                    std::to_string(k_max_ctx_past_training) +
                                    " with unverified quality)");
    }
    if (uint64_t{o.n_seq} * o.n_ctx > k_max_kv_slots) {
        throw std::invalid_argument("[Gemma4Model] " + std::to_string(o.n_seq) + " sequences x " +
                                    std::to_string(o.n_ctx) + " tokens is more than the " +
                                    std::to_string(k_max_kv_slots) +
                                    " KV slots a cache can index; use fewer sequences");
    }
    if (o.prefill_chunk == 0)
        throw std::invalid_argument("[Gemma4Model] prefill_chunk must be >= 1");
    for (GgmlType t : {o.kv_k, o.kv_v}) {
        (void)ops::kv_type_of(t);  // throws for non-KV types
    }
    o.prefill_chunk = std::min(o.prefill_chunk, o.n_ctx);
    return o;
}

ops::KvType kv_type(GgmlType t) {
    return ops::kv_type_of(t);
}

double kv_bits_per_element(GgmlType t) {
    const ops::KvType k = kv_type(t);
    const uint32_t n = ops::kv_block_elems(k);
    return static_cast<double>(ops::kv_slot_bytes(k, n, 1)) * 8.0 / n;
}

std::string describe_kv(const MemoryPlan& p, const std::string& indent) {
    const auto kind_name = [](const KvKindPlan& k) {
        return std::string(k.sliding ? "sliding" : "global") + " layers";
    };
    const auto bits = [](GgmlType t) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", kv_bits_per_element(t));
        return std::string(b);
    };
    std::string s = indent + "KV bytes per token:";
    uint64_t all = 0;
    for (const KvKindPlan& k : p.kv_kinds) {
        s += " " + kind_name(k) + " ";
        if (k.layer_token_bytes) {
            s += std::to_string(k.layers) + " x " + std::to_string(k.layer_token_bytes) + " = ";
        } else {
            s += "(" + std::to_string(k.layers) + ") ";
        }
        s += std::to_string(k.token_bytes()) + " B,";
        all += k.token_bytes();
    }
    s += " all layers " + std::to_string(all) + " B (K " + std::string(traits_of(p.kv_k).name) +
         " " + bits(p.kv_k) + " bits, V " + std::string(traits_of(p.kv_v).name) + " " +
         bits(p.kv_v) + " bits per element)\n";
    s += indent + "KV cache at " + std::to_string(p.n_ctx) + " tokens x " +
         std::to_string(p.n_seq) + (p.n_seq == 1 ? " sequence:" : " sequences:");
    for (size_t i = 0; i < p.kv_kinds.size(); ++i) {
        const KvKindPlan& k = p.kv_kinds[i];
        char b[64];
        std::snprintf(b, sizeof b, "%.2f MiB", static_cast<double>(k.bytes) / k_mib);
        s += std::string(i ? "," : "") + " " + kind_name(k) + " " + b;
        if (k.sliding) s += " (ring of " + std::to_string(k.slots) + " slots)";
    }
    return s + "\n";
}

std::string past_training_warning(const MemoryPlan& p) {
    if (p.n_ctx_train == 0 || p.n_ctx <= p.n_ctx_train) return "";
    return "warning: a context of " + std::to_string(p.n_ctx) +
           " tokens is past the model's trained length of " + std::to_string(p.n_ctx_train) +
           "; quality there is unverified";
}

std::string describe(const MemoryPlan& p) {
    std::string s = "weights " + mib(p.weights) + " + KV cache " + mib(p.kv) + " + scratch " +
                    mib(p.scratch) + " = " + mib(p.total());
    if (p.experts.streamed) {
        s += " (weights: " + mib(p.experts.non_expert_bytes) + " non-expert + an expert cache of " +
             std::to_string(p.experts.slots) + " of " + std::to_string(p.experts.total_experts) +
             " experts)";
    }
    if (p.experts.budget) s += " (VRAM budget " + mib(p.experts.budget) + ")";
    if (p.device_heap) s += " (device heap " + mib(p.device_heap) + ")";
    return s;
}

MemoryPlan Gemma4Model::plan(const GgufFile& file, const ModelOptions& options) {
    const Gemma4Config cfg = Gemma4Config::from_gguf(file);
    const Gemma4WeightsView view = Gemma4WeightsView::bind(file, cfg);
    return plan_model(cfg, weight_bytes_of(view), options, PlanDevice::generic()).totals;
}

}  // namespace vkllm
