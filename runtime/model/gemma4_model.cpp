// Gemma4Model: options, memory plan, upload, and the prefill / decode / truncate steps. The
// layers are recorded in forward_graph.cpp; per-sequence cache bookkeeping is kv_state.cpp.
#include "runtime/model/gemma4_model.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "loader/align.h"
#include "runtime/model/expert_cost_cache.h"
#include "runtime/model/gemma4_model_impl.h"
#include "runtime/model/memory_plan.h"
#include "runtime/ops/attention.h"
#include "runtime/ops/matmul_id.h"

namespace vkllm {

vk::BufferSpan UploadPool::put_bytes(const void* data, uint64_t bytes) {
    const uint64_t off = align_up(used_, align_);
    const uint64_t size = std::max<uint64_t>(align_up(bytes, 4), 16);
    if (off + size > span_.size || span_.mapped == nullptr) {
        throw std::logic_error("Gemma4Model: per-step upload pool exhausted");
    }
    std::memcpy(span_.mapped + off, data, bytes);
    used_ = off + size;
    return span_.sub(off, size);
}

Gemma4Model::Impl::Impl(vk::Context& c, const GgufFile& f, const ModelOptions& options)
    : ctx(c),
      file(f),
      cfg(Gemma4Config::from_gguf(f)),
      view(Gemma4WeightsView::bind(f, cfg)),
      opt(resolve(cfg, options)),
      weight_arena(c.device(), vk::MemoryIntent::DeviceLocal),
      kv_arena(c.device(), vk::MemoryIntent::DeviceLocal, 64ull << 20),
      scratch_arena(c.device(), vk::MemoryIntent::DeviceLocal, 64ull << 20),
      upload_arena(c.device(), vk::MemoryIntent::Upload, 1ull << 20),
      readback_arena(c.device(), vk::MemoryIntent::Readback, 1ull << 20),
      // Profiling stamps every dispatch: room for a full-size model's step.
      cs(c.device(), options.profile_dispatches ? 16384u : 256u) {
    cs.set_profiling(options.profile_dispatches);
    // One plan decides every allocation (memory_plan.h); nothing below sizes a buffer itself.
    ModelPlan mp = plan_model(cfg, weight_bytes_of(view), options, PlanDevice::of(c.device()));
    opt = mp.opt;
    layout = mp.layout;
    geom = mp.geom;
    plan = mp.totals;
    if (opt.on_plan) opt.on_plan(plan);
    mp.check_fits();
    planned = std::move(mp.buffers);
    const uint64_t align = c.device().limits().binding_alignment;

    // KV caches in the plan's order: K then V of every layer owning its cache, each holding every
    // sequence's region.
    seqs.assign(opt.n_seq, SeqKvState(geom));
    kv_k.resize(cfg.n_layer);
    kv_v.resize(cfg.n_layer);
    for (uint32_t l = 0; l < cfg.n_layer; ++l) {
        const Gemma4LayerConfig& L = cfg.layers[l];
        if (L.kv_source != l) continue;
        const uint32_t slots = opt.n_seq * (L.is_sliding ? geom.swa_capacity : geom.n_ctx);
        kv_k[l] =
            ops::allocate_kv_cache(kv_arena, kv_type(opt.kv_k), L.head_dim, L.n_kv_heads, slots);
        expect_planned(kv_buffer_name(l, 'k'), kv_k[l].spans.total_bytes());
        kv_v[l] =
            ops::allocate_kv_cache(kv_arena, kv_type(opt.kv_v), L.head_dim, L.n_kv_heads, slots);
        expect_planned(kv_buffer_name(l, 'v'), kv_v[l].spans.total_bytes());
    }

    // Scratch activations and the other buffers, each exactly as planned.
    const auto take = [&](vk::Arena& arena, const std::string& name) {
        return arena.allocate(planned_bytes(name));
    };
    buf.h = take(scratch_arena, "scratch.h");
    buf.x = take(scratch_arena, "scratch.x");
    buf.p = take(scratch_arena, "scratch.p");
    buf.y = take(scratch_arena, "scratch.y");
    buf.q = take(scratch_arena, "scratch.q");
    buf.o = take(scratch_arena, "scratch.o");
    buf.k = take(scratch_arena, "scratch.k");
    buf.v = take(scratch_arena, "scratch.v");
    buf.gate = take(scratch_arena, "scratch.gate");
    buf.up = take(scratch_arena, "scratch.up");
    if (cfg.has_moe()) {
        buf.shared = take(scratch_arena, "scratch.shared");
        buf.moe = take(scratch_arena, "scratch.moe");
        buf.router = take(scratch_arena, "scratch.router");
        buf.route_ids = take(scratch_arena, "scratch.route_ids");
        buf.route_w = take(scratch_arena, "scratch.route_w");
        buf.gu = take(scratch_arena, "scratch.gu");
        buf.act = take(scratch_arena, "scratch.act");
        buf.upe = take(scratch_arena, "scratch.upe");
        buf.dn = take(scratch_arena, "scratch.dn");
        buf.moe_groups = take(scratch_arena, "scratch.moe_groups");
    }
    if (cfg.has_ple()) {
        buf.pi = take(scratch_arena, "scratch.pi");
        buf.pg = take(scratch_arena, "scratch.pg");
        buf.pil = take(scratch_arena, "scratch.pil");
    }
    buf.attn = take(scratch_arena, "scratch.attn");
    buf.xq = take(scratch_arena, "scratch.xq");
    buf.xq_glu = take(scratch_arena, "scratch.xq_glu");
    buf.logits = take(scratch_arena, "scratch.logits");
    buf.readback = take(readback_arena, "readback.logits");
    if (opt.record_routing && cfg.has_moe()) buf.routing = take(readback_arena, "readback.routing");

    if (buf.readback.mapped == nullptr)
        throw std::runtime_error("[Gemma4Model] readback memory is not mapped");
    const uint64_t B = layout.cols;

    // Constant inputs and the per-step pool, in host-visible memory.
    std::vector<int32_t> gpos(opt.n_ctx);
    for (uint32_t j = 0; j < opt.n_ctx; ++j) gpos[j] = static_cast<int32_t>(j);
    buf.global_pos = take(upload_arena, "upload.global_pos");
    ctx.transfer().upload(buf.global_pos, std::as_bytes(std::span<const int32_t>(gpos)));
    if (cfg.has_ple()) {
        buf.ple_ids_stride = static_cast<uint32_t>(align_up(B, 64));
        std::vector<uint32_t> ids(uint64_t{buf.ple_ids_stride} * cfg.n_layer, 0);
        for (uint32_t l = 0; l < cfg.n_layer; ++l) {
            for (uint32_t t = 0; t < B; ++t) ids[l * buf.ple_ids_stride + t] = t * cfg.n_layer + l;
        }
        buf.ple_ids = take(upload_arena, "upload.ple_ids");
        ctx.transfer().upload(buf.ple_ids, std::as_bytes(std::span<const uint32_t>(ids)));
    }
    pool = UploadPool(take(upload_arena, "upload.pool"), align);

    w = upload_weights(ctx, weight_arena, file, cfg, view, opt.on_upload, !plan.experts.streamed);
    if (plan.experts.streamed) {
        buf.route_ids_host = take(readback_arena, "readback.route_ids");
        buf.expert_slots = take(upload_arena, "upload.expert_slots");
        buf.expert_staging = take(upload_arena, "upload.expert_staging");
        experts =
            std::make_unique<ExpertCache>(ctx, weight_arena, file, cfg, view,
                                          plan.experts.slots_per_layer, buf.expert_staging, w);
        if (opt.expert_compute != ExpertCompute::Gpu) {
            buf.expert_x = take(readback_arena, "readback.expert_x");
            buf.expert_cpu_out = take(upload_arena, "upload.expert_cpu_out");
            cpu_experts = std::make_unique<CpuExperts>(file, cfg, view);
            experts->set_compute(opt.expert_compute, opt.expert_compute == ExpertCompute::Auto
                                                         ? measure_expert_costs()
                                                         : ExpertCache::CpuCost{});
        }
    }
}

ExpertCache::CpuCost Gemma4Model::Impl::measure_expert_costs() {
    using Clock = std::chrono::steady_clock;
    const auto secs = [](Clock::time_point t0) {
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    uint32_t l0 = 0;
    while (!cfg.layers[l0].is_moe) ++l0;
    uint64_t expert_bytes = 0;  // one expert of layer l0
    const Gemma4LayerWeights& lw = view.layers[l0];
    const vk::DeviceInfo& info = ctx.device().info();
    std::string key = info.name + " / " + vk::driver_version_string(info);
    for (const TensorInfo* t : lw.expert_tensors()) {
        if (t == nullptr) continue;
        expert_bytes += t->size_bytes / t->ne[2];
        key += " / " + std::string(traits_of(t->type).name) + " " + std::to_string(t->ne[0]) + "x" +
               std::to_string(t->ne[1]);
    }
    for (char& c : key) c = c == '\t' || c == '\n' ? ' ' : c;
    if (const std::optional<ExpertCache::CpuCost> known = load_expert_costs(key)) return *known;
    // Upload: the host writes the staging, the GPU copies it into a slot (an empty one: its
    // contents do not matter yet), less the round trip of an empty submission. Best of three.
    // At least 16 MiB in all (repeated copies of a small staging), so the time is the bus's.
    const vk::BufferSpan dst = w.layers[l0].ffn_down_exps.data.parts.at(0);
    const uint64_t n = std::min(buf.expert_staging.size, dst.size);
    const uint64_t reps = std::max<uint64_t>(1, (16ull << 20) / n);
    double upload = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 3; ++i) {
        auto t0 = Clock::now();
        cs.begin();
        cs.submit_and_wait();
        const double empty = secs(t0);
        t0 = Clock::now();
        cs.begin();
        for (uint64_t r = 0; r < reps; ++r) {
            std::memset(buf.expert_staging.mapped, static_cast<int>(r), n);
            cs.copy(buf.expert_staging.sub(0, n), dst.sub(0, n));
        }
        cs.submit_and_wait();
        upload = std::min(upload, std::max(secs(t0) - empty, 1e-9) / static_cast<double>(n * reps));
    }
    // CPU: expert 0 of layer l0 for 1 and for 4 tokens: a fixed part (reading and decoding the
    // weights) and a part per token.
    std::vector<float> x(cfg.n_embd, 0.01f), y(uint64_t{cfg.n_embd} * 4);
    double t1 = std::numeric_limits<double>::infinity(), t4 = t1;
    for (int i = 0; i < 2; ++i) {
        for (const uint32_t m : {1u, 4u}) {
            CpuExperts::Job job;
            job.expert = 0;
            for (uint32_t c = 0; c < m; ++c) {
                job.x.push_back(x.data());
                job.y.push_back(y.data() + uint64_t{c} * cfg.n_embd);
            }
            const auto t0 = Clock::now();
            cpu_experts->run(l0, std::span(&job, 1));
            (m == 1 ? t1 : t4) = std::min(m == 1 ? t1 : t4, secs(t0));
        }
    }
    const double b = static_cast<double>(expert_bytes);
    const double per_token = std::max(t4 - t1, 0.0) / 3.0;
    const ExpertCache::CpuCost cost{upload, std::max(t1 - per_token, 0.0) / b, per_token / b};
    save_expert_costs(key, cost);
    return cost;
}

uint64_t Gemma4Model::Impl::planned_bytes(const std::string& name) const {
    for (const PlannedBuffer& b : planned) {
        if (b.name == name) return b.bytes;
    }
    throw std::logic_error("[Gemma4Model] the memory plan has no buffer '" + name + "'");
}

void Gemma4Model::Impl::expect_planned(const std::string& name, uint64_t bytes) const {
    if (planned_bytes(name) != bytes) {
        throw std::logic_error("[Gemma4Model] '" + name + "' allocated " + std::to_string(bytes) +
                               " bytes, planned " + std::to_string(planned_bytes(name)));
    }
}

void Gemma4Model::Impl::check_append(uint32_t seq, std::span<const int32_t> tokens) const {
    for (size_t i = 0; i < tokens.size(); ++i) check_token(tokens[i], i);
    const uint64_t len = seqs[seq].length();
    if (len + tokens.size() > opt.n_ctx) {
        throw ContextOverflowError(
            "sequence " + std::to_string(seq) + " holds " + std::to_string(len) +
            " tokens; adding " + std::to_string(tokens.size()) + " would make " +
            std::to_string(len + tokens.size()) + ", more than the context size of " +
            std::to_string(opt.n_ctx) + " tokens");
    }
}

void Gemma4Model::Impl::check_seq(uint32_t seq) const {
    if (seq >= opt.n_seq) {
        throw std::invalid_argument("[Gemma4Model] sequence " + std::to_string(seq) +
                                    " out of range (n_seq " + std::to_string(opt.n_seq) + ")");
    }
}

void Gemma4Model::Impl::check_token(int32_t token, size_t index) const {
    if (token < 0 || static_cast<uint32_t>(token) >= cfg.n_vocab) {
        throw std::invalid_argument("[Gemma4Model] token " + std::to_string(token) + " at index " +
                                    std::to_string(index) + " is outside the vocabulary of " +
                                    std::to_string(cfg.n_vocab));
    }
}

std::vector<float> Gemma4Model::Impl::run(const Step& step) {
    const uint32_t V = cfg.n_vocab;
    std::vector<float> out(uint64_t{V} * step.n_logits);
    const uint32_t g0 = std::min(layout.logit_cols, step.n_logits);
    const auto t_record = std::chrono::steady_clock::now();
    cs.begin();
    try {
        record_forward(step);
        if (g0 > 0) record_head(0, g0);
    } catch (...) {
        // Close the recording so the stream stays usable. What was recorded is valid and only
        // writes scratch and cache cells that no committed position needs (kv_state.h).
        cs.submit_and_wait();
        throw;
    }
    last_dispatches = cs.dispatches();
    last_record_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t_record)
            .count();
    cs.submit_and_wait();
    if (opt.profile_dispatches) last_profile = cs.dispatch_times();
    if (buf.routing.size > 0) {
        const uint32_t k = cfg.n_expert_used;
        for (const bool predicted : {false, true}) {
            std::vector<std::vector<uint32_t>>& ids = predicted ? last_predicted : last_routing;
            ids.assign(cfg.n_layer, {});
            for (uint32_t l = predicted ? 1 : 0; l < cfg.n_layer; ++l) {
                if (!cfg.layers[l].is_moe) continue;
                const uint64_t row = (predicted ? cfg.n_layer : 0) + l;
                ids[l].resize(uint64_t{k} * step.n_tokens);
                std::memcpy(ids[l].data(), buf.routing.mapped + row * k * layout.cols * 4,
                            ids[l].size() * 4);
            }
        }
    }
    if (g0 > 0) std::memcpy(out.data(), buf.readback.mapped, uint64_t{V} * g0 * 4);
    for (uint32_t c0 = g0; c0 < step.n_logits; c0 += layout.logit_cols) {
        const uint32_t g = std::min(layout.logit_cols, step.n_logits - c0);
        cs.begin();
        record_head(c0, g);
        cs.submit_and_wait();
        std::memcpy(out.data() + uint64_t{V} * c0, buf.readback.mapped, uint64_t{V} * g * 4);
    }
    for (uint32_t c = 0; c < step.n_logits; ++c) {  // §3.8 step 4, after the softcap
        for (int32_t id : cfg.suppress_tokens) {
            if (id >= 0 && static_cast<uint32_t>(id) < V) {
                out[uint64_t{c} * V + static_cast<uint32_t>(id)] =
                    -std::numeric_limits<float>::infinity();
            }
        }
    }
    return out;
}

Gemma4Model::Gemma4Model(vk::Context& ctx, const GgufFile& file, const ModelOptions& options)
    : impl_(std::make_unique<Impl>(ctx, file, options)) {}

Gemma4Model::~Gemma4Model() = default;

const Gemma4Config& Gemma4Model::config() const {
    return impl_->cfg;
}
const MemoryPlan& Gemma4Model::memory_plan() const {
    return impl_->plan;
}
const std::vector<PlannedBuffer>& Gemma4Model::planned_buffers() const {
    return impl_->planned;
}

uint64_t Gemma4Model::allocated_bytes(BufferHome home) const {
    const Impl& m = *impl_;
    switch (home) {
        case BufferHome::Weights:
            return m.weight_arena.requested_bytes();
        case BufferHome::Kv:
            return m.kv_arena.requested_bytes();
        case BufferHome::Scratch:
            return m.scratch_arena.requested_bytes();
        case BufferHome::Upload:
            return m.upload_arena.requested_bytes();
        case BufferHome::Readback:
            return m.readback_arena.requested_bytes();
    }
    return 0;
}

uint32_t Gemma4Model::last_step_dispatches() const {
    return impl_->last_dispatches;
}

double Gemma4Model::last_step_record_us() const {
    return impl_->last_record_us;
}

std::optional<ExpertCacheStats> Gemma4Model::expert_cache_stats() const {
    if (!impl_->experts) return std::nullopt;
    return impl_->experts->stats();
}

std::vector<std::vector<uint32_t>> Gemma4Model::last_step_routing() const {
    return impl_->last_routing;
}

std::vector<std::vector<uint32_t>> Gemma4Model::last_step_predicted_routing() const {
    return impl_->last_predicted;
}

std::vector<Gemma4Model::KernelTime> Gemma4Model::last_step_profile() const {
    std::vector<KernelTime> out;
    for (const auto& [module, ns] : impl_->last_profile) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const KernelTime& k) { return k.module == module; });
        if (it == out.end()) it = out.insert(out.end(), {module, 0, 0.0});
        ++it->dispatches;
        it->us += ns / 1e3;
    }
    std::sort(out.begin(), out.end(),
              [](const KernelTime& a, const KernelTime& b) { return a.us > b.us; });
    return out;
}

uint32_t Gemma4Model::n_ctx() const {
    return impl_->opt.n_ctx;
}
uint32_t Gemma4Model::n_seq() const {
    return impl_->opt.n_seq;
}
uint32_t Gemma4Model::n_vocab() const {
    return impl_->cfg.n_vocab;
}

uint32_t Gemma4Model::seq_length(uint32_t seq) const {
    impl_->check_seq(seq);
    return impl_->seqs[seq].length();
}

uint32_t Gemma4Model::max_step_tokens() const {
    return impl_->layout.cols;
}

uint32_t Gemma4Model::prefill_chunk() const {
    return impl_->opt.prefill_chunk;
}

std::vector<float> Gemma4Model::step(std::span<const StepEntry> entries) {
    Impl& m = *impl_;
    if (entries.empty()) throw std::invalid_argument("[Gemma4Model] step with no entries");
    std::vector<bool> seen(m.opt.n_seq, false);
    uint64_t total = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        const StepEntry& e = entries[i];
        m.check_seq(e.seq);
        if (seen[e.seq]) {
            throw std::invalid_argument("[Gemma4Model] sequence " + std::to_string(e.seq) +
                                        " appears twice in one step");
        }
        seen[e.seq] = true;
        if (e.tokens.empty() || e.tokens.size() > m.opt.prefill_chunk) {
            throw std::invalid_argument("[Gemma4Model] step entry for sequence " +
                                        std::to_string(e.seq) + " has " +
                                        std::to_string(e.tokens.size()) + " tokens; expected 1.." +
                                        std::to_string(m.opt.prefill_chunk));
        }
        m.check_append(e.seq, e.tokens);
        total += e.tokens.size();
    }
    if (total > m.layout.cols) {
        throw std::invalid_argument("[Gemma4Model] step of " + std::to_string(total) +
                                    " tokens exceeds max_step_tokens " +
                                    std::to_string(m.layout.cols));
    }
    const auto T = static_cast<uint32_t>(total);
    m.pool.reset();
    Step step;
    step.n_tokens = T;
    std::vector<uint32_t> ids(T);
    std::vector<int32_t> pos(T);
    std::vector<SeqKvState> next;
    next.reserve(entries.size());
    std::vector<uint32_t> swa_slots(T), global_slots(T);
    std::vector<int32_t> rings;
    const uint32_t ring = m.geom.swa_capacity;
    uint32_t col = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        const StepEntry& e = entries[i];
        const auto n = static_cast<uint32_t>(e.tokens.size());
        const SeqKvState& st = m.seqs[e.seq];
        next.push_back(st);
        next.back().append(n);
        // Sequence s owns slots [s * capacity, (s + 1) * capacity) of every cache.
        for (uint32_t t = 0; t < n; ++t) {
            const uint32_t p = st.length() + t;
            ids[col + t] = static_cast<uint32_t>(e.tokens[t]);
            pos[col + t] = static_cast<int32_t>(p);
            global_slots[col + t] = e.seq * m.geom.n_ctx + p;
            swa_slots[col + t] = ring ? e.seq * ring + st.swa_slot(p) : 0;
        }
        step.global_seqs.push_back({col, n, e.seq * m.geom.n_ctx, st.length() + n, 0});
        if (ring) {
            step.swa_seqs.push_back(
                {col, n, e.seq * ring, st.swa_slots_after(n), static_cast<uint32_t>(i) * ring});
            const std::vector<int32_t>& r = next.back().ring_positions();
            rings.insert(rings.end(), r.begin(), r.end());
        }
        if (e.logits == LogitsWanted::All) step.add_logit_run(col, n);
        if (e.logits == LogitsWanted::Last) step.add_logit_run(col + n - 1, 1);
        step.n_logits += logit_count(e.logits, n);
        col += n;
    }
    step.swa_slots = m.pool.put(std::span<const uint32_t>(swa_slots));
    step.global_slots = m.pool.put(std::span<const uint32_t>(global_slots));
    if (ring) step.rings = m.pool.put(std::span<const int32_t>(rings));
    step.ids = m.pool.put(std::span<const uint32_t>(ids));
    step.pos = m.pool.put(std::span<const int32_t>(pos));
    step.host_pos = std::move(pos);
    std::vector<float> logits = m.run(step);
    for (size_t i = 0; i < entries.size(); ++i) m.seqs[entries[i].seq] = std::move(next[i]);
    return logits;
}

std::vector<float> Gemma4Model::prefill(uint32_t seq, std::span<const int32_t> tokens,
                                        bool all_logits) {
    Impl& m = *impl_;
    if (tokens.empty()) throw std::invalid_argument("[Gemma4Model] prefill of an empty token span");
    m.check_seq(seq);
    m.check_append(seq, tokens);  // the whole prompt, before any chunk changes the cache
    std::vector<float> logits;
    for (size_t c0 = 0; c0 < tokens.size(); c0 += m.opt.prefill_chunk) {
        const size_t n = std::min<size_t>(m.opt.prefill_chunk, tokens.size() - c0);
        const bool last = c0 + n == tokens.size();
        const StepEntry e{
            seq, tokens.subspan(c0, n),
            all_logits ? LogitsWanted::All : (last ? LogitsWanted::Last : LogitsWanted::None)};
        std::vector<float> z = step(std::span<const StepEntry>(&e, 1));
        logits.insert(logits.end(), z.begin(), z.end());
    }
    return logits;
}

std::vector<float> Gemma4Model::decode(std::span<const SeqToken> batch) {
    if (batch.empty()) throw std::invalid_argument("[Gemma4Model] decode of an empty batch");
    std::vector<StepEntry> entries;
    entries.reserve(batch.size());
    for (const SeqToken& b : batch) {
        entries.push_back({b.seq, std::span<const int32_t>(&b.token, 1), LogitsWanted::Last});
    }
    return step(entries);
}

uint32_t Gemma4Model::truncate(uint32_t seq, uint32_t n) {
    impl_->check_seq(seq);
    return impl_->seqs[seq].truncate(n);
}

GgmlType parse_kv_type(const std::string& name) {
    std::string s = name;
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (s == "f16") return GgmlType::F16;
    if (s == "q8_0") return GgmlType::Q8_0;
    if (s == "tq3" || s == "turbo3") return GgmlType::TURBO3_0;
    if (s == "tq2" || s == "turbo2") return GgmlType::TURBO2_0;
    if (s == "tq4" || s == "turbo4") return GgmlType::TURBO4_0;
    throw std::invalid_argument("unknown KV cache type '" + name +
                                "'; expected f16, q8_0, tq3 (turbo3), turbo2 or turbo4");
}

}  // namespace vkllm
