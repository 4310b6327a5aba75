// The memory planner (runtime/model/memory_plan.h) on the released Gemma 4 shapes of
// gemma4-model.md §1.5(c), without a GPU: KV caches per layer type, the sliding-window ring, the
// prefill chunk shrunk to fit a binding, the fit check. Expected bytes are worked out here from
// the table, independently of the planner's code.
#include <gtest/gtest.h>

#include <string>

#include "runtime/model/memory_plan.h"

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
    return plan_model(config_of(r), {10ull << 30, 500}, o, PlanDevice::generic());
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
    const ModelPlan p = plan_model(config_of(k_26b), {10ull << 30, 500}, o, d);
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
    const ModelPlan p = plan_model(config_of(k_31b), {18ull << 30, 800}, o, d);
    try {
        p.check_fits();
        FAIL() << "31B at 128K in 8 GiB should not fit";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("KV cache"), std::string::npos) << e.what();
    }
    const ModelPlan small = plan_model(config_of(k_e2b), {1ull << 30, 300}, ModelOptions{}, d);
    EXPECT_NO_THROW(small.check_fits());
    EXPECT_EQ(small.opt.n_ctx, 8192u);  // default: min(n_ctx_train, 8192)
}

}  // namespace
}  // namespace vkllm
