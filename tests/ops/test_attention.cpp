// Flash attention vs the fp64 CPU reference: head dims 128/256/512, GQA 1/2/8, ragged query and
// KV counts, causal and sliding-window masks over a ring-buffer cache, empty slots holding NaN
// garbage, f16 / q8_0 / TurboQuant (turbo2/3/4) / mixed K and V, large positions, softcap;
// split-K equals the single pass; a cache split across bindings.
//
// TurboQuant caches hold rotated rows: the reference dequantises them and rotates each 128-group
// back (x^ = F^T y^, quant/turbo_quant.h), then runs exact attention on the original basis, so it
// also checks the kernel's query rotation and output un-rotation.
//
// Tolerance: atol = 2e-4 * max|V| (k_tol). K/V are dequantised identically on both sides, so the
// only differences are fp32 rounding in q.k (~sqrt(D) * 2^-24 * |q||k|, ~1e-5 even for the
// unscaled Gemma-style logits of std ~16), in exp and in the sums. The output is a convex
// combination of V rows, so a logit error e moves it by at most ~e * max|V|. Observed on
// lavapipe: <= 7e-6 * max|V| (the unit-scale case), so 2e-4 leaves ~30x for less exact exp().

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "loader/fp16.h"
#include "loader/quant_blocks.h"
#include "quant/quantize.h"
#include "quant/turbo_quant.h"
#include "reference/attention.h"
#include "runtime/ops/attention.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

using ops::KvType;

constexpr double k_tol = 2e-4;  // x max|V|, see the top comment

enum class Layout {
    Linear,  // slot j holds position base + j; queries are the last n_q positions
    Ring,    // `written` positions went to slot pos % n_slots; slot != position
    Holes,   // Linear, but a quarter of the slots are empty (-1) and hold NaN bytes
};

struct AttnCase {
    std::string name;
    uint32_t head_dim, n_heads, n_kv_heads, n_q, n_slots;
    KvType k_type = KvType::F16, v_type = KvType::F16;
    Layout layout = Layout::Linear;
    uint32_t window = 0;
    float softcap = 0;
    int32_t pos_base = 0;
    uint32_t written = 0;     // Ring: positions written so far
    bool unit_scale = false;  // Gemma 4: scale 1.0 on unit-RMS q and k (large logits)
};

struct HostCase {
    std::vector<float> q, k, v;  // k, v dequantised, [D, H_kv, n_slots]
    std::vector<std::byte> k_bytes, v_bytes;
    std::vector<int32_t> q_pos, slot_pos;
    float scale = 1;
    double max_v = 0;
};

std::vector<std::byte> encode(KvType type, std::span<const float> x, uint32_t head_dim) {
    if (type == KvType::Q8_0) return quant::quantize_row(GgmlType::Q8_0, x);
    if (ops::is_turbo(type))
        return quant::quantize_turbo_heads(ops::ggml_type_of(type), x, head_dim);
    std::vector<std::byte> out(x.size() * 2);
    for (size_t i = 0; i < x.size(); ++i) {
        const uint16_t h = f32_to_f16(x[i]);
        std::memcpy(&out[2 * i], &h, 2);
    }
    return out;
}

// Cache bytes back to original-basis values (turbo: dequantise, F^T per 128-group, unpad).
void decode(KvType type, std::span<const std::byte> bytes, uint32_t head_dim,
            std::span<float> out) {
    if (!ops::is_turbo(type)) {
        dequantize_row(ops::ggml_type_of(type), bytes, out);
        return;
    }
    quant::reconstruct_turbo_heads(ops::ggml_type_of(type), bytes, head_dim, out);
}

HostCase make_host(const AttnCase& c, std::mt19937_64& rng) {
    HostCase h;
    const size_t D = c.head_dim;
    h.q = random_normal(rng, D * c.n_heads * c.n_q);
    h.scale = c.unit_scale ? 1.0f : 1.0f / std::sqrt(static_cast<float>(D));
    h.slot_pos.assign(c.n_slots, -1);
    int32_t last = 0;  // highest position written
    if (c.layout == Layout::Ring) {
        for (uint32_t p = 0; p < c.written; ++p)
            h.slot_pos[p % c.n_slots] = c.pos_base + static_cast<int32_t>(p);
        last = c.pos_base + static_cast<int32_t>(c.written) - 1;
    } else {
        std::bernoulli_distribution hole(c.layout == Layout::Holes ? 0.25 : 0.0);
        for (uint32_t j = 0; j < c.n_slots; ++j) {
            if (!hole(rng)) h.slot_pos[j] = c.pos_base + static_cast<int32_t>(j);
        }
        last = c.pos_base + static_cast<int32_t>(c.n_slots) - 1;
    }
    for (uint32_t i = 0; i < c.n_q; ++i) {
        const int32_t back = static_cast<int32_t>((c.n_q - 1 - i) % c.n_slots);
        h.q_pos.push_back(last - back);
    }
    const size_t n = D * c.n_kv_heads * c.n_slots;
    std::vector<float> k = random_normal(rng, n), v = random_normal(rng, n);
    h.k_bytes = encode(c.k_type, k, c.head_dim);
    h.v_bytes = encode(c.v_type, v, c.head_dim);
    // Empty slots hold garbage that decodes to NaN in both types (f16 0xFFFF; q8_0 d = 0xFFFF).
    const size_t k_slot = h.k_bytes.size() / c.n_slots, v_slot = h.v_bytes.size() / c.n_slots;
    for (uint32_t j = 0; j < c.n_slots; ++j) {
        if (h.slot_pos[j] >= 0) continue;
        std::fill_n(h.k_bytes.begin() + static_cast<ptrdiff_t>(j * k_slot), k_slot,
                    std::byte{0xFF});
        std::fill_n(h.v_bytes.begin() + static_cast<ptrdiff_t>(j * v_slot), v_slot,
                    std::byte{0xFF});
    }
    h.k.resize(n);
    h.v.resize(n);
    decode(c.k_type, h.k_bytes, c.head_dim, h.k);
    decode(c.v_type, h.v_bytes, c.head_dim, h.v);
    for (uint32_t j = 0; j < c.n_slots; ++j) {
        if (h.slot_pos[j] < 0) continue;
        for (size_t e = 0; e < D * c.n_kv_heads; ++e) {
            h.max_v = std::max(h.max_v, double{std::fabs(h.v[j * D * c.n_kv_heads + e])});
        }
    }
    if (h.max_v == 0) h.max_v = 1;
    return h;
}

// With a q8_0 K cache the kernel scores q8_0-rounded queries (as llama.cpp's CPU and CUDA flash
// attention do): the reference rounds them the same way, through the CPU Q8_0 quantiser.
std::vector<double> reference_out(const AttnCase& c, const HostCase& h) {
    std::vector<float> q = h.q;
    if (c.k_type == KvType::Q8_0)
        dequantize_row(GgmlType::Q8_0, quant::quantize_row(GgmlType::Q8_0, q), q);
    return reference::attention({c.head_dim, c.n_heads, c.n_kv_heads, c.n_q, c.n_slots},
                                {h.scale, c.softcap, c.window}, q, h.k, h.v, h.q_pos, h.slot_pos);
}

// Uploads the case into `c` and runs attention with `splits` (0 = the op's choice).
std::vector<float> run_gpu(vk::Context& c, const AttnCase& ac, const HostCase& h, uint32_t splits,
                           uint32_t* splits_used = nullptr) {
    vk::Arena& a = c.device_arena();
    ops::KvCache k = ops::allocate_kv_cache(a, ac.k_type, ac.head_dim, ac.n_kv_heads, ac.n_slots);
    ops::KvCache v = ops::allocate_kv_cache(a, ac.v_type, ac.head_dim, ac.n_kv_heads, ac.n_slots);
    c.transfer().upload(k.spans, h.k_bytes);
    c.transfer().upload(v.spans, h.v_bytes);
    auto put = [&](auto span) {
        vk::BufferSpan b = a.allocate(span.size_bytes());
        c.transfer().upload(b, std::as_bytes(span));
        return b;
    };
    ops::AttentionArgs args;
    args.q = put(std::span(h.q));
    args.q_pos = put(std::span(h.q_pos));
    args.slot_pos = put(std::span(h.slot_pos));
    args.k = &k;
    args.v = &v;
    args.out = a.allocate(h.q.size() * 4);
    const ops::AttentionShape shape{ac.head_dim, ac.n_heads, ac.n_kv_heads};
    const ops::AttentionSeq seq{0, ac.n_q, 0, ac.n_slots, 0};
    const ops::AttentionParams params{h.scale, ac.softcap, ac.window, splits};
    const ops::AttentionPlan plan =
        ops::plan_attention(c.device().info(), shape, std::span(&seq, 1), params, k, v,
                            c.device().limits().max_binding_bytes);
    if (splits_used) *splits_used = plan.total_splits();
    args.seqs = put(std::span(plan.table));
    if (plan.scratch_bytes) args.scratch = a.allocate(plan.scratch_bytes);
    vk::CommandStream cs(c.device());
    cs.begin();
    ops::record_attention(c, cs, shape, params, plan, args);
    cs.submit_and_wait();
    std::vector<float> out(h.q.size());
    c.transfer().download(args.out, std::as_writable_bytes(std::span(out)));
    return out;
}

class FlashAttention : public VkTest, public ::testing::WithParamInterface<AttnCase> {};

TEST_P(FlashAttention, MatchesCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    const AttnCase& c = GetParam();
    const HostCase h = make_host(c, rng);
    const std::vector<float> got = run_gpu(ctx(), c, h, 0);
    EXPECT_TRUE(all_close(got, reference_out(c, h), {k_tol * h.max_v, 0}));
}

constexpr KvType F16 = KvType::F16, Q8 = KvType::Q8_0, TQ3 = KvType::TURBO3, TQ2 = KvType::TURBO2,
                 TQ4 = KvType::TURBO4;

INSTANTIATE_TEST_SUITE_P(
    Cases, FlashAttention,
    ::testing::Values(
        AttnCase{"d128_gqa1_q1_kv1", 128, 1, 1, 1, 1},
        AttnCase{"d128_gqa2_q5_kv31_q8q8", 128, 4, 2, 5, 31, Q8, Q8},
        AttnCase{"d128_gqa8_q37_kv33_f16q8", 128, 8, 1, 37, 33, F16, Q8},
        AttnCase{"d256_gqa2_q130_kv1000", 256, 2, 1, 130, 1000},
        AttnCase{"d256_gqa8_q5_ring_window128_q8f16", 256, 8, 1, 5, 300, Q8, F16, Layout::Ring, 128,
                 0, 0, 1057},
        AttnCase{"d128_gqa2_q3_ring_window4_f16q8", 128, 2, 1, 3, 8, F16, Q8, Layout::Ring, 4, 0, 0,
                 41},
        AttnCase{"d256_gqa2_q5_kv33_holes", 256, 4, 2, 5, 33, F16, F16, Layout::Holes},
        AttnCase{"d128_gqa1_q5_kv31_bigpos_softcap", 128, 3, 3, 5, 31, Q8, F16, Layout::Linear, 0,
                 5.0f, 1 << 30},
        AttnCase{"d256_gqa2_q37_kv33_unit_scale", 256, 2, 1, 37, 33, F16, F16, Layout::Linear, 0, 0,
                 0, 0, true},
        AttnCase{"d512_gqa2_q5_kv33_softcap_f16q8", 512, 2, 1, 5, 33, F16, Q8, Layout::Linear, 0,
                 20.0f},
        AttnCase{"d512_gqa8_q1_kv1000_q8q8", 512, 8, 1, 1, 1000, Q8, Q8},
        // Queries 126 and 127, window 64: in the first 64-slot tile only query
        // 126 sees a slot (63). Regression: query 127's row kept the masked-score
        // sentinel as its weight there, NEG * v overflowed and gave NaN.
        AttnCase{"d128_gqa1_q2_kv128_window64_row_sees_nothing", 128, 1, 1, 2, 128, F16, F16,
                 Layout::Linear, 64},
        // TurboQuant: every Gemma 4 head dim, GQA, SWA ring and global, prefill
        // and decode, asymmetric pairs, holes of NaN bytes, unit-scale logits.
        AttnCase{"d256_gqa8_q1_ring_window128_tq3tq3", 256, 8, 1, 1, 300, TQ3, TQ3, Layout::Ring,
                 128, 0, 0, 1057},
        AttnCase{"d256_gqa2_q37_kv1000_tq3tq3", 256, 4, 2, 37, 1000, TQ3, TQ3},
        AttnCase{"d512_gqa8_q5_kv1000_q8tq3", 512, 8, 1, 5, 1000, Q8, TQ3},
        AttnCase{"d512_gqa2_q1_kv33_tq3f16_softcap", 512, 2, 1, 1, 33, TQ3, F16, Layout::Linear, 0,
                 20.0f},
        AttnCase{"d128_gqa2_q5_kv33_holes_tq3tq3", 128, 4, 2, 5, 33, TQ3, TQ3, Layout::Holes},
        AttnCase{"d256_gqa2_q37_kv33_unit_scale_tq3q8", 256, 2, 1, 37, 33, TQ3, Q8, Layout::Linear,
                 0, 0, 0, 0, true},
        AttnCase{"d256_gqa2_q5_kv31_tq2tq4", 256, 4, 2, 5, 31, TQ2, TQ4},
        AttnCase{"d512_gqa1_q3_kv77_tq4tq2", 512, 2, 2, 3, 77, TQ4, TQ2},
        // Head dims that TurboQuant pads to 128 (formats.md §3.7).
        AttnCase{"d64_gqa2_q5_ring_window16_tq3tq3", 64, 4, 2, 5, 40, TQ3, TQ3, Layout::Ring, 16, 0,
                 0, 97},
        AttnCase{"d64_gqa1_q37_kv33_q8tq3", 64, 2, 2, 37, 33, Q8, TQ3},
        AttnCase{"d192_gqa4_q3_kv100_tq3f16_softcap", 192, 4, 1, 3, 100, TQ3, F16, Layout::Linear,
                 0, 30.0f}),
    [](const auto& p) { return p.param.name; });

using FlashAttentionSplitK = VkTest;

TEST_F(FlashAttentionSplitK, DecodeEqualsSinglePass) {
    VKLLM_SEEDED_RNG(rng);
    for (const auto& [n_q, kt, vt] : {std::tuple{1u, Q8, F16}, std::tuple{8u, Q8, F16},
                                      std::tuple{1u, TQ3, TQ3}, std::tuple{8u, Q8, TQ3}}) {
        SCOPED_TRACE("n_q " + std::to_string(n_q) + " " +
                     std::string(traits_of(ops::ggml_type_of(kt)).name) + "/" +
                     std::string(traits_of(ops::ggml_type_of(vt)).name));
        const AttnCase c{"decode", 256, 4, 1, n_q, 1000, kt, vt, Layout::Ring, 300, 0, 0, 1400};
        const HostCase h = make_host(c, rng);
        uint32_t used = 0;
        const std::vector<float> single = run_gpu(ctx(), c, h, 1, &used);
        ASSERT_EQ(used, 1u);
        const std::vector<double> want = reference_out(c, h);
        EXPECT_TRUE(all_close(single, want, {k_tol * h.max_v, 0}));
        for (uint32_t splits : {0u, 3u, 7u, 16u}) {
            SCOPED_TRACE("splits " + std::to_string(splits));
            const std::vector<float> split = run_gpu(ctx(), c, h, splits, &used);
            EXPECT_GT(used, 1u);  // chunks are rounded to whole tiles: maybe fewer than asked
            EXPECT_LE(used, std::max(splits, 16u));
            // Same fp32 math in a different summation order.
            EXPECT_TRUE(all_close(split, single, {1e-4 * h.max_v, 0}));
            EXPECT_TRUE(all_close(split, want, {k_tol * h.max_v, 0}));
        }
    }
}

TEST(FlashAttentionLimits, CacheSplitAcrossBindingsMatchesReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    // 128 KiB bindings: K (1 KiB a slot) and V (544 B) split at different slots, so the kernel
    // sees segments bounded by either.
    auto env = make_vk_env({128 << 10, 256 << 10});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    for (uint32_t n_q : {1u, 5u}) {
        SCOPED_TRACE("n_q " + std::to_string(n_q));
        const AttnCase c{"split", 256, 4, 2, n_q, 300, F16, Q8, Layout::Ring, 200, 0, 0, 777};
        const HostCase h = make_host(c, rng);
        const std::vector<float> got = run_gpu(*env->context, c, h, 0);
        EXPECT_TRUE(all_close(got, reference_out(c, h), {k_tol * h.max_v, 0}));
    }
    // turbo3 K (200 B a slot) and q8_0 V (544 B) over 1001 slots: 2 K parts and 5 V parts, a
    // context that is no multiple of any tile spread over several bindings.
    for (uint32_t n_q : {1u, 5u}) {
        SCOPED_TRACE("turbo3 n_q " + std::to_string(n_q));
        const AttnCase c{"split_tq3", 256, 4, 2, n_q, 1001, TQ3, Q8, Layout::Linear};
        const HostCase h = make_host(c, rng);
        const std::vector<float> got = run_gpu(*env->context, c, h, 0);
        EXPECT_TRUE(all_close(got, reference_out(c, h), {k_tol * h.max_v, 0}));
        const AttnCase cv{"split_tq3v", 256, 4, 2, n_q, 1001, Q8, TQ3, Layout::Linear};
        const HostCase hv = make_host(cv, rng);
        EXPECT_TRUE(all_close(run_gpu(*env->context, cv, hv, 0), reference_out(cv, hv),
                              {k_tol * hv.max_v, 0}));
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

// Sequences of one step sharing the caches, each in its own region of `region` slots (as the
// model lays them out): every sequence's output equals its own reference, and the dispatch count
// does not depend on how many sequences there are.
struct BatchSeq {
    AttnCase c;
    HostCase h;
};

struct BatchRun {
    std::vector<float> out;
    uint32_t dispatches = 0;
    uint32_t splits = 0;
};

BatchRun run_batch(vk::Context& c, const std::vector<BatchSeq>& seqs, uint32_t region,
                   uint32_t splits) {
    const AttnCase& c0 = seqs.front().c;
    const uint32_t n = static_cast<uint32_t>(seqs.size());
    const size_t k_slot = ops::kv_slot_bytes(c0.k_type, c0.head_dim, c0.n_kv_heads);
    const size_t v_slot = ops::kv_slot_bytes(c0.v_type, c0.head_dim, c0.n_kv_heads);
    // Slots a sequence does not scan hold NaN garbage: reading one would show in the output.
    std::vector<std::byte> kb(k_slot * region * n, std::byte{0xFF}),
        vb(v_slot * region * n, std::byte{0xFF});
    std::vector<int32_t> slot_pos(size_t{region} * n, -1);
    std::vector<float> q;
    std::vector<int32_t> q_pos;
    std::vector<ops::AttentionSeq> table;
    uint32_t col = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const BatchSeq& s = seqs[i];
        std::copy(s.h.k_bytes.begin(), s.h.k_bytes.end(), kb.begin() + i * region * k_slot);
        std::copy(s.h.v_bytes.begin(), s.h.v_bytes.end(), vb.begin() + i * region * v_slot);
        std::copy(s.h.slot_pos.begin(), s.h.slot_pos.end(), slot_pos.begin() + i * region);
        q.insert(q.end(), s.h.q.begin(), s.h.q.end());
        q_pos.insert(q_pos.end(), s.h.q_pos.begin(), s.h.q_pos.end());
        table.push_back({col, s.c.n_q, i * region, s.c.n_slots, i * region});
        col += s.c.n_q;
    }
    vk::Arena& a = c.device_arena();
    ops::KvCache k = ops::allocate_kv_cache(a, c0.k_type, c0.head_dim, c0.n_kv_heads, region * n);
    ops::KvCache v = ops::allocate_kv_cache(a, c0.v_type, c0.head_dim, c0.n_kv_heads, region * n);
    c.transfer().upload(k.spans, kb);
    c.transfer().upload(v.spans, vb);
    auto put = [&](auto span) {
        vk::BufferSpan b = a.allocate(span.size_bytes());
        c.transfer().upload(b, std::as_bytes(span));
        return b;
    };
    const ops::AttentionShape shape{c0.head_dim, c0.n_heads, c0.n_kv_heads};
    const ops::AttentionParams params{seqs.front().h.scale, c0.softcap, c0.window, splits};
    const ops::AttentionPlan plan = ops::plan_attention(c.device().info(), shape, table, params, k,
                                                        v, c.device().limits().max_binding_bytes);
    ops::AttentionArgs args;
    args.q = put(std::span(q));
    args.q_pos = put(std::span(q_pos));
    args.slot_pos = put(std::span(slot_pos));
    args.seqs = put(std::span(plan.table));
    args.k = &k;
    args.v = &v;
    args.out = a.allocate(q.size() * 4);
    if (plan.scratch_bytes) args.scratch = a.allocate(plan.scratch_bytes);
    vk::CommandStream cs(c.device());
    cs.begin();
    ops::record_attention(c, cs, shape, params, plan, args);
    BatchRun r;
    r.dispatches = cs.dispatches();
    r.splits = plan.total_splits();
    cs.submit_and_wait();
    r.out.resize(q.size());
    c.transfer().download(args.out, std::as_writable_bytes(std::span(r.out)));
    return r;
}

// Decoding, verifying and prefilling sequences of different lengths, linear and ring layouts.
std::vector<BatchSeq> mixed_batch(std::mt19937_64& rng, uint32_t count, uint32_t window, KvType kt,
                                  KvType vt, bool with_prefill = true) {
    const AttnCase shapes[] = {
        {"decode_long", 256, 4, 2, 1, 300, kt, vt, Layout::Ring, window, 0, 0, 777},
        {"decode_short", 256, 4, 2, 1, 7, kt, vt},
        {"prefill", 256, 4, 2, 37, 170, kt, vt, Layout::Holes},
        {"verify", 256, 4, 2, 4, 65, kt, vt},
        {"decode_mid", 256, 4, 2, 1, 129, kt, vt, Layout::Ring, window, 0, 0, 500},
    };
    std::vector<BatchSeq> out;
    for (uint32_t i = 0; i < count; ++i) {
        AttnCase c = shapes[i % std::size(shapes)];
        if (!with_prefill && c.n_q > 4) c = shapes[0];
        if (c.layout != Layout::Ring) c.window = window;
        out.push_back({c, make_host(c, rng)});
    }
    return out;
}

void expect_each_matches(const std::vector<BatchSeq>& seqs, const std::vector<float>& out) {
    size_t off = 0;
    for (const BatchSeq& s : seqs) {
        SCOPED_TRACE(s.c.name);
        const std::vector<float> mine(out.begin() + static_cast<ptrdiff_t>(off),
                                      out.begin() + static_cast<ptrdiff_t>(off + s.h.q.size()));
        EXPECT_TRUE(all_close(mine, reference_out(s.c, s.h), {k_tol * s.h.max_v, 0}));
        off += s.h.q.size();
    }
}

using FlashAttentionBatch = VkTest;

TEST_F(FlashAttentionBatch, EverySequenceMatchesItsReferenceInOneDispatch) {
    VKLLM_SEEDED_RNG(rng);
    for (uint32_t count : {1u, 2u, 5u, 8u}) {
        SCOPED_TRACE("sequences " + std::to_string(count));
        const std::vector<BatchSeq> seqs = mixed_batch(rng, count, 0, Q8, F16);
        // Splits forced to 1 (single pass) and to 3 (split-K with a reduce).
        for (uint32_t splits : {1u, 3u}) {
            SCOPED_TRACE("splits " + std::to_string(splits));
            const BatchRun r = run_batch(ctx(), seqs, 320, splits);
            expect_each_matches(seqs, r.out);
            EXPECT_EQ(r.dispatches, splits == 1 ? 1u : 2u);
        }
        const BatchRun automatic = run_batch(ctx(), seqs, 320, 0);
        expect_each_matches(seqs, automatic.out);
        EXPECT_LE(automatic.dispatches, 2u);
    }
}

TEST_F(FlashAttentionBatch, SlidingWindowAcrossSequences) {
    VKLLM_SEEDED_RNG(rng);
    const std::vector<BatchSeq> seqs = mixed_batch(rng, 5, 96, F16, Q8);
    expect_each_matches(seqs, run_batch(ctx(), seqs, 320, 0).out);
}

TEST(FlashAttentionBatchLimits, RegionsSpanningBindingsMatchReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    // 512 KiB bindings: K (f16, 1 KiB a slot) holds 512 slots a part and V (q8_0, 544 B) 963, so
    // three of the 5 regions of 320 slots straddle part boundaries (K at 512, 1024 and 1536, V at
    // 963). Decodes and a 4-token verify only: with 6 segments even one split each for a
    // 37-query prefill would need more scratch than a binding (the model then splits the batch).
    auto env = make_vk_env({512 << 10, 1 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    const std::vector<BatchSeq> seqs = mixed_batch(rng, 5, 0, F16, Q8, false);
    for (uint32_t splits : {0u, 1u, 4u}) {
        SCOPED_TRACE("splits " + std::to_string(splits));
        const BatchRun r = run_batch(*env->context, seqs, 320, splits);
        EXPECT_GT(r.splits, 1u);  // several segments force split-K
        expect_each_matches(seqs, r.out);
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

using FlashAttentionArgs = VkTest;

TEST_F(FlashAttentionArgs, RejectsBadShapes) {
    ops::KvCache k = ops::allocate_kv_cache(ctx().device_arena(), F16, 128, 2, 16);
    const ops::AttentionParams p;
    const vk::DeviceInfo& info = ctx().device().info();
    const auto plan = [&](ops::AttentionShape shape, std::vector<ops::AttentionSeq> seqs) {
        return ops::plan_attention(info, shape, seqs, p, k, k);
    };
    const ops::AttentionSeq one{0, 1, 0, 16, 0};
    EXPECT_NO_THROW(plan({128, 2, 2}, {one}));
    EXPECT_THROW(plan({128, 3, 2}, {one}), std::invalid_argument);  // n_heads % n_kv_heads
    EXPECT_THROW(plan({96, 2, 2}, {one}), std::invalid_argument);   // head dim
    EXPECT_THROW(plan({128, 2, 2}, {{0, 1, 0, 17, 0}}), std::invalid_argument);  // past capacity
    EXPECT_THROW(plan({128, 2, 2}, {{0, 1, 8, 9, 0}}), std::invalid_argument);   // region too
    EXPECT_THROW(plan({128, 2, 2}, {{0, 0, 0, 4, 0}}), std::invalid_argument);   // no queries
    EXPECT_THROW(plan({128, 2, 2}, {{0, 1, 0, 0, 0}}), std::invalid_argument);   // no slots
    EXPECT_THROW(plan({128, 2, 2}, {}), std::invalid_argument);                  // no sequence
    EXPECT_THROW(plan({128, 2, 2}, {{0, 3, 0, 4, 0}, {2, 1, 4, 4, 0}}),
                 std::invalid_argument);  // shared query columns
}

}  // namespace
}  // namespace vkllm::test
