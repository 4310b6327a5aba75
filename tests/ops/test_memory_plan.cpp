// The memory planner (runtime/model/memory_plan.h) on the released Gemma 4 shapes of
// gemma4-model.md §1.5(c), without a GPU: KV caches per layer type, the sliding-window ring, the
// prefill chunk shrunk to fit a binding, the fit check. Expected bytes are worked out here from
// the table, independently of the planner's code. Long context and KV types (issue #14): the
// 26B-A4B shape of synth's preset with the bytes of its Q4_K_M tensors (no file is written) at
// 1,048,576 tokens on a 24 GiB card, KV bytes per token per layer kind against formats.md §4.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "loader/ggml_type.h"
#include "runtime/model/expert_cache.h"
#include "runtime/model/memory_plan.h"
#include "runtime/vk/device_profile.h"
#include "synth/synth_model.h"

namespace vkllm {
namespace {

struct Released {
    uint32_t layers, n_embd, n_ff, heads, kv_swa, kv_full, window, shared_kv, ple, experts;
    uint32_t full_every;  // layer l is full when l % full_every == full_every - 1
};

// 26B-A4B, 31B and E2B rows of §1.5(c).
constexpr Released k_26b{30, 2816, 2112, 16, 8, 2, 1024, 0, 0, 128, 6};
constexpr Released k_31b{60, 5376, 21504, 32, 16, 4, 1024, 0, 0, 0, 6};
constexpr Released k_e2b{35, 1536, 6144, 8, 1, 1, 512, 20, 256, 0, 5};

Gemma4Config config_of(const Released& r) {
    Gemma4Config c;
    c.arch = "gemma4";
    c.n_ctx_train = 131072;
    c.n_embd = r.n_embd;
    c.n_layer = r.layers;
    c.n_vocab = 262144;
    c.head_dim_full = 512;
    c.head_dim_swa = 256;
    c.n_swa = r.window;
    c.n_shared_kv_layers = r.shared_kv;
    c.n_kv_start = r.layers - r.shared_kv;
    c.n_embd_per_layer = r.ple;
    if (r.experts) {
        c.n_expert = r.experts;
        c.n_expert_used = 8;
        c.n_ff_expert = 704;
    }
    uint32_t last_swa = 0, last_full = 0;
    for (uint32_t l = 0; l < r.layers; ++l) {
        Gemma4LayerConfig L;
        L.is_sliding = l % r.full_every != r.full_every - 1;
        L.head_dim = L.is_sliding ? 256 : 512;
        L.n_heads = r.heads;
        L.n_kv_heads = L.is_sliding ? r.kv_swa : r.kv_full;
        L.n_ff = r.n_ff;
        L.window = L.is_sliding ? r.window : 0;
        L.is_moe = r.experts != 0;
        // Shared-KV layers attend to the last owner of their type (§3.5).
        if (l < c.n_kv_start) {
            L.kv_source = l;
            (L.is_sliding ? last_swa : last_full) = l;
        } else {
            L.kv_source = L.is_sliding ? last_swa : last_full;
        }
        c.layers.push_back(L);
    }
    return c;
}

ModelPlan plan_for(const Released& r, uint32_t n_ctx, uint32_t n_seq = 1) {
    ModelOptions o;
    o.n_ctx = n_ctx;
    o.n_seq = n_seq;
    return plan_model(config_of(r), WeightBytes{10ull << 30, 500, 0, 0, 0, {}}, o,
                      PlanDevice::generic());
}

TEST(MemoryPlanReleased, KvCachesOf26bA4bAt128k) {
    const ModelPlan p = plan_for(k_26b, 131072);
    // 25 SWA layers: ring of 1024 + 512 slots, 8 KV heads x 256 x f16, K and V.
    const uint64_t swa = 25ull * 1536 * (8 * 256 * 2) * 2;
    // 5 full layers: 131072 slots, 2 KV heads x 512 x f16, K and V (k_eq_v still keeps a V cache).
    const uint64_t full = 5ull * 131072 * (2 * 512 * 2) * 2;
    EXPECT_EQ(p.bytes(BufferHome::Kv), swa + full);
    EXPECT_EQ(p.totals.kv, swa + full);  // every cache is a multiple of the alignment
    EXPECT_EQ(p.geom.swa_capacity, 1536u);
    EXPECT_EQ(p.opt.prefill_chunk, 512u);
    EXPECT_EQ(p.layout.cols, 512u);
    // 60 caches: K and V of 30 layers.
    size_t caches = 0;
    for (const PlannedBuffer& b : p.buffers) caches += b.home == BufferHome::Kv ? 1 : 0;
    EXPECT_EQ(caches, 60u);
}

TEST(MemoryPlanReleased, KvCachesOf31bAndTwoSequences) {
    const ModelPlan p = plan_for(k_31b, 32768, 2);
    const uint64_t swa = 50ull * 1536 * (16 * 256 * 2) * 2;
    const uint64_t full = 10ull * 32768 * (4 * 512 * 2) * 2;
    EXPECT_EQ(p.bytes(BufferHome::Kv), 2 * (swa + full));
}

TEST(MemoryPlanReleased, SharedKvLayersOfE2bOwnNoCache) {
    const ModelPlan p = plan_for(k_e2b, 131072);
    // Layers 0..14 own caches: full ones at 4, 9, 14, the other 12 sliding (ring 512 + 512).
    const uint64_t swa = 12ull * 1024 * (1 * 256 * 2) * 2;
    const uint64_t full = 3ull * 131072 * (1 * 512 * 2) * 2;
    EXPECT_EQ(p.bytes(BufferHome::Kv), swa + full);
    bool has_ple_buffers = false;
    for (const PlannedBuffer& b : p.buffers) has_ple_buffers |= b.name == "scratch.pi";
    EXPECT_TRUE(has_ple_buffers);
}

TEST(MemoryPlanReleased, PrefillChunkShrinksToFitABinding) {
    PlanDevice d = PlanDevice::generic();
    // 16 MiB: 26B's widest column is the 8 experts' down projections, 2816 x 8 floats = 88 KiB.
    d.max_binding_bytes = 16ull << 20;
    ModelOptions o;
    o.n_ctx = 4096;
    const ModelPlan p =
        plan_model(config_of(k_26b), WeightBytes{10ull << 30, 500, 0, 0, 0, {}}, o, d);
    EXPECT_EQ(p.opt.prefill_chunk, (16u << 20) / (2816 * 8 * 4));
    for (const PlannedBuffer& b : p.buffers) {
        if (b.home != BufferHome::Kv) {
            EXPECT_LE(b.bytes, d.max_binding_bytes) << b.name;
        }
    }
}

TEST(MemoryPlanReleased, FitCheckNamesThePlan) {
    PlanDevice d = PlanDevice::generic();
    d.device_heap = 8ull << 30;  // a GTX 1080
    ModelOptions o;
    o.n_ctx = 131072;
    const ModelPlan p =
        plan_model(config_of(k_31b), WeightBytes{18ull << 30, 800, 0, 0, 0, {}}, o, d);
    try {
        p.check_fits();
        FAIL() << "31B at 128K in 8 GiB should not fit";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("KV cache"), std::string::npos) << e.what();
    }
    const ModelPlan small =
        plan_model(config_of(k_e2b), WeightBytes{1ull << 30, 300, 0, 0, 0, {}}, ModelOptions{}, d);
    EXPECT_NO_THROW(small.check_fits());
    EXPECT_EQ(small.opt.n_ctx, 8192u);  // default: min(n_ctx_train, 8192)
}

// ---- Long context and KV types (issue #14) ---------------------------------------------------

constexpr uint32_t k_1m = 1u << 20;
constexpr uint64_t k_gib = 1ull << 30;

// A released preset of synth (gemma4_shape.h) as the loader would read it, and the bytes of its
// tensors in `mix` as synth would write them (their types from llama.cpp's rules), without
// writing anything.
struct FullSize {
    Gemma4Config cfg;
    WeightBytes weights;
};

FullSize full_size(const std::string& preset, quant::QuantMix mix) {
    synth::SynthSpec spec;
    spec.preset = preset;
    spec.quant = mix;
    const synth::SynthPlan plan = synth::plan_synthetic_gemma4(spec);
    const synth::Gemma4Shape& s = plan.shape;
    FullSize f;
    Gemma4Config& c = f.cfg;
    c.arch = "gemma4";
    c.n_ctx_train = s.n_ctx;
    c.n_embd = s.n_embd;
    c.n_layer = s.n_layer;
    c.n_vocab = s.n_vocab;
    c.head_dim_full = s.head_dim_full;
    c.head_dim_swa = s.head_dim_swa;
    c.n_swa = s.n_swa;
    c.n_shared_kv_layers = s.n_shared_kv_layers;
    c.n_kv_start = s.n_kv_start();
    c.n_embd_per_layer = s.n_embd_per_layer;
    c.n_expert = s.n_expert;
    c.n_expert_used = s.n_expert_used;
    c.n_ff_expert = s.n_ff_expert;
    uint32_t last_swa = 0, last_full = 0;
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        Gemma4LayerConfig L;
        L.is_sliding = s.is_sliding(l);
        L.head_dim = s.head_dim(l);
        L.n_heads = s.n_head;
        L.n_kv_heads = s.n_kv_head(l);
        L.n_ff = s.ff(l);
        L.window = L.is_sliding ? s.n_swa : 0;
        L.has_v = s.has_v(l);
        L.is_moe = s.is_moe();
        if (l < c.n_kv_start) {
            L.kv_source = l;
            (L.is_sliding ? last_swa : last_full) = l;
        } else {
            L.kv_source = L.is_sliding ? last_swa : last_full;
        }
        c.layers.push_back(L);
    }
    std::map<std::string, std::pair<uint64_t, uint64_t>> expert_layers;  // bytes, experts
    for (const synth::PlannedTensor& t : plan.tensors) {
        const uint64_t bytes = t.n_rows() * row_bytes(t.type, t.ne[0]);
        f.weights.bytes += bytes;
        f.weights.tensors += 1;
        if (t.name.find("_exps.weight") != std::string::npos) {
            f.weights.expert_bytes += bytes;
            f.weights.expert_tensors += 1;
            auto& [layer_bytes, experts] = expert_layers[t.name.substr(0, t.name.find(".ffn"))];
            layer_bytes += bytes;
            experts = t.ne[2];
        }
    }
    for (const synth::PlannedTensor& t : plan.tensors) {  // in layer order
        if (t.name.find("_exps.weight") == std::string::npos) continue;
        f.weights.expert_sizes.push_back(t.n_rows() * row_bytes(t.type, t.ne[0]) / t.ne[2]);
        f.weights.expert_slot_row_bytes += f.weights.expert_sizes.back();
    }
    for (const auto& [name, be] : expert_layers) {
        f.weights.expert_layer_max_bytes =
            std::max(f.weights.expert_layer_max_bytes, be.first / be.second);
    }
    return f;
}

// A 24 GiB card: an RTX 3090 or 4090 on NVIDIA's driver (24576 MiB device-local heap, 4 GiB
// allocations, bindings up to 4 GiB - 1), as the rtx4090 test profile presents it.
PlanDevice card_24gib() {
    const vk::DeviceProfile prof = vk::device_profile_named("rtx4090", "test");
    PlanDevice d;
    d.info = vk::profile_reference_info(prof);
    d.max_binding_bytes = prof.max_storage_buffer_range;
    d.max_allocation_bytes = prof.max_memory_allocation_size;
    d.binding_alignment = std::max<uint64_t>(prof.min_storage_buffer_offset_alignment, 16);
    d.device_heap = prof.vram_bytes;
    return d;
}

ModelOptions kv_opts(uint32_t n_ctx, GgmlType k, GgmlType v, uint32_t n_seq = 1) {
    ModelOptions o;
    o.n_ctx = n_ctx;
    o.n_seq = n_seq;
    o.kv_k = k;
    o.kv_v = v;
    return o;
}

double gib(uint64_t b) {
    return static_cast<double>(b) / static_cast<double>(k_gib);
}

void print_plan(const char* what, const MemoryPlan& p) {
    std::printf("[ plan     ] %s: %s; total %.3f GiB\n%s", what, describe(p).c_str(),
                gib(p.total()), describe_kv(p, "[ plan     ]   ").c_str());
}

// formats.md §4.2: row_bytes(T, n) = n / blck(T) * block_bytes(T) per head row, turbo rows padded
// to 128 (no padding on Gemma 4's 256 and 512).
uint64_t head_row_bytes(GgmlType t, uint64_t hd) {
    switch (t) {
        case GgmlType::F16:
            return hd * 2;
        case GgmlType::Q8_0:
            return hd / 32 * 34;
        case GgmlType::TURBO4_0:
            return (hd + 127) / 128 * 68;
        case GgmlType::TURBO3_0:
            return (hd + 127) / 128 * 50;
        case GgmlType::TURBO2_0:
            return (hd + 127) / 128 * 34;
        default:
            ADD_FAILURE() << "not a KV type";
            return 0;
    }
}

TEST(MemoryPlanLongContext, Gemma26bA4bAtOneMillionTokensFits24GibWithTq3) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    EXPECT_EQ(m.cfg.n_ctx_train, 262144u);
    const PlanDevice d = card_24gib();
    ASSERT_EQ(d.device_heap, 24 * k_gib);
    const ModelPlan p =
        plan_model(m.cfg, m.weights, kv_opts(k_1m, GgmlType::TURBO3_0, GgmlType::TURBO3_0), d);
    print_plan("26B-A4B Q4_K_M, 1048576 tokens, K/V turbo3, 24 GiB", p.totals);
    EXPECT_NO_THROW(p.check_fits());
    EXPECT_LE(p.totals.total(), 24 * k_gib);
    EXPECT_EQ(p.opt.n_ctx, k_1m);
    // 5 global layers: 2 KV heads x 512 -> 4 turbo3 blocks of 50 bytes per head, K and V, every
    // position; 25 sliding layers: 8 x 256 -> 2 blocks per head, K and V, a ring of 1024 + 512.
    const uint64_t global = 5ull * k_1m * (2 * 4 * 50) * 2;
    const uint64_t sliding = 25ull * 1536 * (8 * 2 * 50) * 2;
    EXPECT_EQ(p.bytes(BufferHome::Kv), global + sliding);
    EXPECT_EQ(global, 4000ull << 20);      // 4000 MiB
    EXPECT_FALSE(p.with_tq3.has_value());  // fits, and turbo3 already
    EXPECT_NE(past_training_warning(p.totals).find("past the model's trained length of 262144"),
              std::string::npos);
    // Every sequence of the server's default --parallel 1 also fits at the trained context.
    const ModelPlan trained =
        plan_model(m.cfg, m.weights, kv_opts(262144, GgmlType::Q8_0, GgmlType::Q8_0), d);
    print_plan("26B-A4B Q4_K_M, 262144 tokens, K/V q8_0, 24 GiB", trained.totals);
    EXPECT_NO_THROW(trained.check_fits());
    EXPECT_EQ(past_training_warning(trained.totals), "");
}

TEST(MemoryPlanLongContext, Q8CacheAtOneMillionTokensIsRefusedNamingTq3) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    const PlanDevice d = card_24gib();
    const ModelPlan p =
        plan_model(m.cfg, m.weights, kv_opts(k_1m, GgmlType::Q8_0, GgmlType::Q8_0), d);
    print_plan("26B-A4B Q4_K_M, 1048576 tokens, K/V q8_0, 24 GiB", p.totals);
    ASSERT_TRUE(p.with_tq3.has_value());
    EXPECT_LE(p.with_tq3->total(), 24 * k_gib);
    try {
        p.check_fits();
        FAIL() << "q8_0 at 1M tokens should not fit 24 GiB";
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        std::printf("[ refusal  ] %s\n", msg.c_str());
        EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
        EXPECT_NE(msg.find("KV cache"), std::string::npos) << msg;
        EXPECT_NE(msg.find("--kv-k tq3 --kv-v tq3"), std::string::npos) << msg;
        EXPECT_NE(msg.find("which fits"), std::string::npos) << msg;
    }
    // Four sequences do not fit with turbo3 either: the refusal says by how much.
    const ModelPlan four =
        plan_model(m.cfg, m.weights, kv_opts(k_1m, GgmlType::Q8_0, GgmlType::Q8_0, 4), d);
    ASSERT_TRUE(four.with_tq3.has_value());
    try {
        four.check_fits();
        FAIL() << "4 x 1M tokens should not fit 24 GiB";
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("tq3"), std::string::npos) << msg;
        EXPECT_NE(msg.find("still"), std::string::npos) << msg;
    }
    // Already turbo3 and still too big: nothing to suggest about the type.
    const ModelPlan tq3_four =
        plan_model(m.cfg, m.weights, kv_opts(k_1m, GgmlType::TURBO3_0, GgmlType::TURBO3_0, 4), d);
    EXPECT_FALSE(tq3_four.with_tq3.has_value());
    EXPECT_THROW(tq3_four.check_fits(), std::runtime_error);
}

// No planned buffer, and no part of a split KV cache, exceeds the device's binding or allocation
// limit, at 1M tokens and several sequences; a cache larger than a binding is split.
TEST(MemoryPlanLongContext, NoBufferOrCachePartExceedsTheDeviceLimits) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    PlanDevice small = PlanDevice::generic();  // 128 MiB bindings, 1 GiB allocations
    small.device_heap = 24 * k_gib;
    for (const PlanDevice& d : {card_24gib(), small}) {
        for (const GgmlType t : {GgmlType::TURBO3_0, GgmlType::Q8_0, GgmlType::F16}) {
            for (const uint32_t n_seq : {1u, 4u}) {
                SCOPED_TRACE(std::string(traits_of(t).name) + " x" + std::to_string(n_seq) +
                             ", binding " + std::to_string(d.max_binding_bytes));
                const ModelPlan p = plan_model(m.cfg, m.weights, kv_opts(k_1m, t, t, n_seq), d);
                const uint64_t cap = std::min(d.max_binding_bytes, d.max_allocation_bytes);
                for (const PlannedBuffer& b : p.buffers) {
                    if (b.home != BufferHome::Kv) {
                        EXPECT_LE(b.bytes, d.max_binding_bytes) << b.name;
                    }
                }
                size_t split = 0;
                for (const auto& [layer, kv] : p.kv_caches) {
                    for (const ops::KvCache& c : {kv.first, kv.second}) {
                        EXPECT_LE(c.spans.rows_per_part * c.spans.row_bytes, cap) << layer;
                        EXPECT_GE(c.spans.parts.size() * c.spans.rows_per_part, c.spans.rows);
                        EXPECT_EQ(c.spans.rows, uint64_t{n_seq} * (m.cfg.layers[layer].is_sliding
                                                                       ? p.geom.swa_capacity
                                                                       : k_1m));
                        split += c.spans.parts.size() > 1 ? 1 : 0;
                    }
                }
                // Global caches of 1M slots are 400 MiB (turbo3), 1088 MiB (q8_0) or 2 GiB (f16)
                // per sequence: split on 128 MiB bindings, and on the card past 4 GiB.
                if (d.max_binding_bytes == small.max_binding_bytes) {
                    EXPECT_GE(split, 10u);
                }
            }
        }
    }
}

// Contexts past the trained length are allowed up to 1,048,576 tokens; more is refused, as is a
// cache of more than 2^31 slots (device indices are 32-bit).
TEST(MemoryPlanLongContext, ContextLimits) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    EXPECT_EQ(resolve(m.cfg, kv_opts(k_1m, GgmlType::F16, GgmlType::F16)).n_ctx, k_1m);
    try {
        resolve(m.cfg, kv_opts(k_1m + 1, GgmlType::F16, GgmlType::F16));
        FAIL() << "1M + 1 tokens accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("at most 1048576"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("trained on 262144"), std::string::npos) << e.what();
    }
    EXPECT_EQ(resolve(m.cfg, kv_opts(k_1m, GgmlType::F16, GgmlType::F16, 2048)).n_seq, 2048u);
    EXPECT_THROW(resolve(m.cfg, kv_opts(k_1m, GgmlType::F16, GgmlType::F16, 2049)),
                 std::invalid_argument);
    // A model trained past 1M runs up to its own length.
    Gemma4Config longer = m.cfg;
    longer.n_ctx_train = 2 * k_1m;
    EXPECT_EQ(resolve(longer, kv_opts(2 * k_1m, GgmlType::F16, GgmlType::F16)).n_ctx, 2 * k_1m);
}

// KV bytes per token per layer kind: formats.md §4.3's table (the 31B-like shape, which is the
// 31B preset's: 50 sliding layers of 16 x 256, 10 global of 4 x 512) row by row, and 26B-A4B's
// from the §4.2 formula; bits per element from §4.1.
TEST(MemoryPlanLongContext, KvBytesPerTokenPerKindMatchFormats) {
    EXPECT_EQ(kv_bits_per_element(GgmlType::F16), 16.0);
    EXPECT_EQ(kv_bits_per_element(GgmlType::Q8_0), 8.5);
    EXPECT_EQ(kv_bits_per_element(GgmlType::TURBO4_0), 4.25);
    EXPECT_EQ(kv_bits_per_element(GgmlType::TURBO3_0), 3.125);
    EXPECT_EQ(kv_bits_per_element(GgmlType::TURBO2_0), 2.125);

    struct Row {
        GgmlType k, v;
        uint64_t swa, global, all;  // §4.3: per SWA layer, per global layer, Σ all 60 layers
    };
    const Row table[] = {
        {GgmlType::F16, GgmlType::F16, 16384, 8192, 901120},
        {GgmlType::Q8_0, GgmlType::Q8_0, 8704, 4352, 478720},
        {GgmlType::TURBO4_0, GgmlType::TURBO4_0, 4352, 2176, 239360},
        {GgmlType::TURBO3_0, GgmlType::TURBO3_0, 3200, 1600, 176000},
        {GgmlType::TURBO2_0, GgmlType::TURBO2_0, 2176, 1088, 119680},
        {GgmlType::Q8_0, GgmlType::TURBO3_0, 5952, 2976, 327360},
        {GgmlType::Q8_0, GgmlType::TURBO4_0, 6528, 3264, 359040},
    };
    const FullSize b31 = full_size("31b", quant::QuantMix::Q4_K_M);
    const FullSize b26 = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    for (const Row& r : table) {
        SCOPED_TRACE(std::string(traits_of(r.k).name) + "/" + std::string(traits_of(r.v).name));
        const MemoryPlan p =
            plan_model(b31.cfg, b31.weights, kv_opts(131072, r.k, r.v), PlanDevice::generic())
                .totals;
        ASSERT_EQ(p.kv_kinds.size(), 2u);
        const KvKindPlan& swa = p.kv_kinds[0];
        const KvKindPlan& global = p.kv_kinds[1];
        EXPECT_TRUE(swa.sliding);
        EXPECT_FALSE(global.sliding);
        EXPECT_EQ(swa.layers, 50u);
        EXPECT_EQ(global.layers, 10u);
        EXPECT_EQ(swa.layer_token_bytes, r.swa);
        EXPECT_EQ(global.layer_token_bytes, r.global);
        EXPECT_EQ(swa.token_bytes() + global.token_bytes(), r.all);
        EXPECT_EQ(global.slots, 131072u);
        EXPECT_EQ(global.bytes, 131072ull * 10 * r.global);

        // 26B-A4B: 25 sliding layers of 8 x 256, 5 global of 2 x 512.
        const MemoryPlan q =
            plan_model(b26.cfg, b26.weights, kv_opts(k_1m, r.k, r.v), PlanDevice::generic()).totals;
        const uint64_t swa26 = 8 * (head_row_bytes(r.k, 256) + head_row_bytes(r.v, 256));
        const uint64_t global26 = 2 * (head_row_bytes(r.k, 512) + head_row_bytes(r.v, 512));
        ASSERT_EQ(q.kv_kinds.size(), 2u);
        EXPECT_EQ(q.kv_kinds[0].layer_token_bytes, swa26);
        EXPECT_EQ(q.kv_kinds[0].k_token_bytes, 25 * 8 * head_row_bytes(r.k, 256));
        EXPECT_EQ(q.kv_kinds[1].layer_token_bytes, global26);
        EXPECT_EQ(q.kv_kinds[1].v_token_bytes, 5 * 2 * head_row_bytes(r.v, 512));
        EXPECT_EQ(q.kv_kinds[1].bytes, uint64_t{k_1m} * 5 * global26);
        EXPECT_EQ(q.kv_kinds[0].bytes, 1536ull * 25 * swa26);
        EXPECT_EQ(q.kv, q.kv_kinds[0].bytes + q.kv_kinds[1].bytes);
    }
    // What `vkllm info` and the load print for 26B-A4B with turbo3.
    const MemoryPlan t =
        plan_model(b26.cfg, b26.weights, kv_opts(k_1m, GgmlType::TURBO3_0, GgmlType::TURBO3_0),
                   PlanDevice::generic())
            .totals;
    EXPECT_NE(describe_kv(t).find("KV bytes per token: sliding layers 25 x 1600 = 40000 B, global "
                                  "layers 5 x 800 = 4000 B, all layers 44000 B (K turbo3 3.125 "
                                  "bits, V turbo3 3.125 bits per element)"),
              std::string::npos)
        << describe_kv(t);
    // E2B: shared-KV layers own no cache and are not counted.
    const FullSize e2b = full_size("e2b", quant::QuantMix::Q4_K_M);
    const MemoryPlan e =
        plan_model(e2b.cfg, e2b.weights, kv_opts(4096, GgmlType::F16, GgmlType::F16),
                   PlanDevice::generic())
            .totals;
    ASSERT_EQ(e.kv_kinds.size(), 2u);
    EXPECT_EQ(e.kv_kinds[0].layers + e.kv_kinds[1].layers, 15u);
}

// ---- VRAM budget and the expert cache plan (issue #15) ---------------------------------------
// 26B-A4B Q4_K_M (synth's shape and llama.cpp's type rules) at 8192 tokens of q8_0 KV on a 24 GiB
// card's limits, under budgets of 8, 12 and 24 GiB: how many experts the cache holds. Expected
// values from the plan's own parts: the budget less the non-expert weights, KV and scratch, in
// whole aligned slots of the largest expert.

ModelOptions budget_opts(uint64_t budget) {
    ModelOptions o = kv_opts(8192, GgmlType::Q8_0, GgmlType::Q8_0);
    o.vram_budget = budget;
    return o;
}

TEST(MemoryPlanVramBudget, Gemma26bA4bExpertCacheAt8And12And24Gib) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    const PlanDevice d = card_24gib();
    // 30 MoE layers x 128 experts; one expert's gate, up and down: 3 x 2816 x 704 weights in
    // the layer's types (Q4_K / Q6_K down in some layers): ~3.4-3.8 MB, ~110 MB in all layers.
    ASSERT_EQ(m.cfg.n_expert, 128u);
    EXPECT_GT(m.weights.expert_slot_row_bytes, 30 * 3'000'000u);
    EXPECT_LT(m.weights.expert_slot_row_bytes, 30 * 4'500'000u);
    const ModelPlan all = plan_model(m.cfg, m.weights, budget_opts(0), d);
    EXPECT_FALSE(all.totals.experts.streamed);
    EXPECT_EQ(all.totals.experts.total_experts, 30u * 128u);
    EXPECT_EQ(all.totals.experts.slots_per_layer, 128u);
    const uint64_t align = d.binding_alignment;
    const uint64_t resident = m.weights.expert_bytes + m.weights.expert_tensors * align;
    const uint64_t rest = all.totals.total() - resident;  // non-expert weights + KV + scratch
    for (const uint64_t gib : {8ull, 12ull, 24ull}) {
        SCOPED_TRACE(std::to_string(gib) + " GiB");
        const ModelPlan p = plan_model(m.cfg, m.weights, budget_opts(gib * k_gib), d);
        const ExpertCachePlan& ex = p.totals.experts;
        const std::string what =
            "26B-A4B Q4_K_M, 8192 tokens q8_0, VRAM budget " + std::to_string(gib) + " GiB";
        print_plan(what.c_str(), p.totals);
        std::printf(
            "[ info     ]   expert cache: %u of 128 experts per layer, %llu of %llu "
            "(%.1f%%), %.0f MiB\n",
            ex.slots_per_layer, static_cast<unsigned long long>(ex.slots),
            static_cast<unsigned long long>(ex.total_experts),
            100.0 * static_cast<double>(ex.slots) / static_cast<double>(ex.total_experts),
            static_cast<double>(ex.cache_bytes) / (1 << 20));
        EXPECT_EQ(ex.budget, gib * k_gib);
        if (all.totals.total() <= gib * k_gib) {
            EXPECT_FALSE(ex.streamed);
            EXPECT_EQ(p.totals.total(), all.totals.total());
            continue;
        }
        EXPECT_TRUE(ex.streamed);
        EXPECT_EQ(ex.slots, uint64_t{ex.slots_per_layer} * 30u);
        // Every expert tensor's slots, in parts of whole slots, each part aligned.
        uint64_t cache = 0;
        for (const uint64_t e : m.weights.expert_sizes) {
            cache += expert_pool_bytes(e, ex.slots_per_layer, d.max_binding_bytes, align);
        }
        EXPECT_EQ(ex.cache_bytes, cache);
        // Plus the streaming buffers: ids, wave slots and a staging for a token's experts.
        uint64_t extra = 0;
        for (const PlannedBuffer& b :
             expert_streaming_buffers(m.cfg, m.weights, p.layout, align, true)) {
            extra += (b.bytes + align - 1) / align * align;
            if (b.name == "upload.expert_staging") {
                EXPECT_EQ(b.bytes, k_expert_staging_max);  // 8 experts of ~3.7 MB: capped
            }
        }
        EXPECT_EQ(p.totals.total(), rest + cache + extra);
        EXPECT_LE(p.totals.total(), gib * k_gib);
        // One more slot in every layer would not fit.
        EXPECT_GT(p.totals.total() + m.weights.expert_slot_row_bytes, gib * k_gib);
        EXPECT_NO_THROW(p.check_fits());
    }
    // 24 GiB holds everything; 8 GiB a fraction of the experts, 12 GiB more.
    const auto slots_at = [&](uint64_t gib) {
        return plan_model(m.cfg, m.weights, budget_opts(gib * k_gib), d)
            .totals.experts.slots_per_layer;
    };
    EXPECT_LT(slots_at(8), slots_at(12));
    EXPECT_EQ(slots_at(24), 128u);
    // A forced slot count (ModelOptions::expert_slots) streams even where everything fits.
    ModelOptions forced = budget_opts(0);
    forced.expert_slots = 16;
    const ExpertCachePlan f = plan_model(m.cfg, m.weights, forced, d).totals.experts;
    EXPECT_TRUE(f.streamed);
    EXPECT_EQ(f.slots_per_layer, 16u);
}

TEST(MemoryPlanVramBudget, RefusesABudgetBelowTheNonExpertPart) {
    const FullSize m = full_size("26b-a4b", quant::QuantMix::Q4_K_M);
    const PlanDevice d = card_24gib();
    // Non-expert weights ~1.5 GiB + KV + scratch ~0.4 GiB: 1 GiB cannot hold them.
    const ModelPlan p = plan_model(m.cfg, m.weights, budget_opts(k_gib), d);
    try {
        p.check_fits();
        ADD_FAILURE() << "no refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("even without its experts"), std::string::npos)
            << e.what();
    }
    // Room for less than one expert in every layer: refused, naming what is missing. One in
    // every layer is enough (prefill and decode stream the rest in waves).
    const ModelPlan all = plan_model(m.cfg, m.weights, budget_opts(0), d);
    const uint64_t rest = all.totals.total() - m.weights.expert_bytes -
                          m.weights.expert_tensors * d.binding_alignment;
    const uint64_t row = m.weights.expert_slot_row_bytes;
    const ModelPlan half = plan_model(m.cfg, m.weights, budget_opts(rest + row / 2), d);
    EXPECT_TRUE(half.totals.experts.streamed);
    EXPECT_EQ(half.totals.experts.slots_per_layer, 0u);
    try {
        half.check_fits();
        ADD_FAILURE() << "no refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("less than one expert in each of the 30 MoE layers"),
                  std::string::npos)
            << e.what();
    }
    uint64_t extra = 0;  // the buffers streaming adds
    for (const PlannedBuffer& b :
         expert_streaming_buffers(m.cfg, m.weights, all.layout, d.binding_alignment, true)) {
        extra += (b.bytes + d.binding_alignment - 1) / d.binding_alignment * d.binding_alignment;
    }
    const ModelPlan one = plan_model(
        m.cfg, m.weights,
        budget_opts(rest + extra + row + m.weights.expert_tensors * d.binding_alignment), d);
    EXPECT_EQ(one.totals.experts.slots_per_layer, 1u);
    EXPECT_NO_THROW(one.check_fits());
    // A dense model over its budget: refused as not fitting, no expert cache.
    const FullSize dense = full_size("31b", quant::QuantMix::Q4_K_M);
    const ModelPlan q = plan_model(dense.cfg, dense.weights, budget_opts(8 * k_gib), d);
    EXPECT_EQ(q.totals.experts.total_experts, 0u);
    try {
        q.check_fits();
        ADD_FAILURE() << "no refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("VRAM budget"), std::string::npos) << e.what();
    }
}

// The CPU/GPU split of cold experts on a GTX 1080-like machine (PCIe 3.0 x16 ~12 GB/s, dual-
// channel DDR4 ~30 GB/s read by a CPU expert kernel that keeps up with it, ~200 GFLOP/s): a
// 26B-A4B expert (3 x 2816 x 704 weights, ~3.7 MB at Q4_K/Q6_K) for one decode token is cheaper
// read on the CPU (0.12 ms + 0.06 ms) than uploaded (0.31 ms); for a 64-token prefill batch the
// products make the CPU the slower one. With a CPU kernel at a tenth of that bandwidth (the
// scalar reference decoder today) the upload wins even at one token.
TEST(MemoryPlanVramBudget, CpuExpertsBeatUploadsOnlyForFewTokens) {
    const uint64_t bytes = 3'700'000;
    const double params = 3.0 * 2816 * 704;
    const ExpertMissCost gtx1080{1.0 / 12e9, 1.0 / 30e9, 2.0 * params / 200e9 / 3.7e6};
    EXPECT_TRUE(cpu_beats_upload(gtx1080, bytes, 1));
    EXPECT_TRUE(cpu_beats_upload(gtx1080, bytes, 2));
    EXPECT_FALSE(cpu_beats_upload(gtx1080, bytes, 64));
    ExpertMissCost slow_cpu = gtx1080;
    slow_cpu.cpu_fixed_per_byte = 1.0 / 3e9;
    EXPECT_FALSE(cpu_beats_upload(slow_cpu, bytes, 1));
}

TEST(MemoryPlanVramBudget, ParsesSizesAndAuto) {
    EXPECT_EQ(parse_vram_budget("8GiB"), 8 * k_gib);
    EXPECT_EQ(parse_vram_budget("512 MiB"), 512ull << 20);
    EXPECT_EQ(parse_vram_budget("24GB"), 24'000'000'000ull);
    EXPECT_EQ(parse_vram_budget("1.5g"), 3 * k_gib / 2);
    EXPECT_EQ(parse_vram_budget("4096"), 4096u);
    EXPECT_EQ(parse_vram_budget("AUTO"), k_vram_budget_auto);
    for (const char* bad : {"", "GiB", "8 parsecs", "-1GiB", "0"}) {
        EXPECT_THROW(parse_vram_budget(bad), std::invalid_argument) << bad;
    }
    EXPECT_EQ(resolve_vram_budget(k_vram_budget_auto, 24 * k_gib), 24 * k_gib - 24 * k_gib / 20);
    EXPECT_EQ(resolve_vram_budget(k_vram_budget_auto, 2 * k_gib), 2 * k_gib - (256ull << 20));
    EXPECT_EQ(resolve_vram_budget(k_vram_budget_auto, 0), 0u);
    EXPECT_EQ(resolve_vram_budget(5, 24 * k_gib), 5u);
}

}  // namespace
}  // namespace vkllm
