// MoE expert mat-mat (runtime/ops/matmul_id.h) against the fp64 CPU reference of the expert
// mat-vec (reference::matvec_id, the same function): every weight type, shapes that are not
// multiples of any tile (K = 320 / 512 / 97, N = 200, T = 37 and T = 1), an expert that gets no
// pair and one that gets every token, a repeated id within a token, an id >= E (its y row stays
// untouched), x per token and per (token, slot), every tile the wrapper picks on some device,
// experts straddling weight bindings, the grouping pass's lists, and argument checks.
//
// Tolerance: |got - want| <= 1e-5 * sum_k |w_k x_k| + 1e-6 per output (tests/support/
// weight_case.h): weights decode in fp32 and K products are summed in fp32 in another order than
// the fp64 reference; both errors are a few ulps of sum |w x|.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "quant/random_blocks.h"
#include "reference/gemma4_forward.h"
#include "reference/matvec.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/ops/matmul_id.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"
#include "tests/support/weight_case.h"

namespace vkllm::test {
namespace {

constexpr float k_sentinel = -12345.0f;
constexpr uint32_t k_bad_id = 0xFFFFFFFFu;

struct IdMmCase {
    GgmlType type;
    uint32_t K, N, n_experts, n_used, n_tokens;
    bool x_per_slot;
    ops::MatMulTile tile = {};
};

std::string describe(const IdMmCase& c) {
    std::string s = std::string(traits_of(c.type).name) + " K=" + std::to_string(c.K) +
                    " N=" + std::to_string(c.N) + " E=" + std::to_string(c.n_experts) +
                    " used=" + std::to_string(c.n_used) + " T=" + std::to_string(c.n_tokens) +
                    (c.x_per_slot ? " x per slot" : " x per token");
    if (c.tile.bm != 0) {
        s += " tile " + std::to_string(c.tile.bm) + "x" + std::to_string(c.tile.bn) + "/" +
             std::to_string(c.tile.tm) + "x" + std::to_string(c.tile.tn);
    }
    return s;
}

// Routing with the edge cases: expert 1 gets nothing; the last expert is slot 0 of every token;
// the other slots are random over the remaining experts; with two or more slots, token 0 repeats
// an id and (with two or more tokens) token 1's last slot is an out-of-range id.
std::vector<uint32_t> make_ids(const IdMmCase& c, uint32_t ids_stride, std::mt19937_64& rng) {
    std::vector<uint32_t> ids(size_t{ids_stride} * c.n_tokens, 7777u);  // padding: never read
    std::uniform_int_distribution<uint32_t> pick(0, c.n_experts - 3);
    for (uint32_t t = 0; t < c.n_tokens; ++t) {
        ids[t * ids_stride] = c.n_experts - 1;
        for (uint32_t s = 1; s < c.n_used; ++s) {
            const uint32_t e = pick(rng);
            ids[t * ids_stride + s] = e == 1 ? c.n_experts - 2 : e;  // never expert 1
        }
    }
    if (c.n_used > 1) {
        ids[1] = ids[0];
        if (c.n_tokens > 1) ids[ids_stride + c.n_used - 1] = k_bad_id;
    }
    return ids;
}

// Runs the op (twice when `twice`, checking the second run is bit-identical) and compares.
void run_matmul_id(vk::Context& ctx, const IdMmCase& c, std::mt19937_64& rng, bool twice = false) {
    SCOPED_TRACE(describe(c));
    ASSERT_GE(c.n_experts, 3u);
    const uint32_t pairs = c.n_used * c.n_tokens;
    const uint32_t ids_stride = c.n_used + 1;
    const std::vector<uint32_t> ids = make_ids(c, ids_stride, rng);
    // Odd K gets an odd x stride (scalar loads); otherwise a multiple of 4 (vec4 loads).
    const uint32_t x_stride = c.K + (c.K % 2 == 1 ? 2 : 4);
    const uint32_t y_stride = c.N + 3;
    const uint32_t n_x = c.x_per_slot ? pairs : c.n_tokens;
    const std::vector<std::byte> w =
        quant::random_quantized(c.type, size_t{c.K} * c.N * c.n_experts, rng);
    const std::vector<float> x = random_normal(rng, size_t{x_stride} * n_x);
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, c.type, c.K, uint64_t{c.N} * c.n_experts);
    const std::vector<float> sentinel(size_t{y_stride} * pairs, k_sentinel);
    ops::MatMulIdArgs a;
    a.weight = {&wt, c.type, c.K, c.N * c.n_experts};
    a.n_rows = c.N;
    a.n_experts = c.n_experts;
    a.ids = b.upload(ids);
    a.ids_stride = ids_stride;
    a.n_used = c.n_used;
    a.n_tokens = c.n_tokens;
    a.x = b.upload(x);
    a.x_stride = x_stride;
    a.x_per_slot = c.x_per_slot;
    a.y = b.upload(sentinel);
    a.y_stride = y_stride;
    a.groups = b.arena.allocate(ops::moe_groups_bytes(c.n_experts, c.n_used, c.n_tokens));
    a.tile = c.tile;
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matmul_id(ctx, cs, a);
    cs.submit_and_wait();
    std::vector<float> got = b.download(a.y, sentinel.size());
    if (twice) {
        cs.begin();
        ops::record_matmul_id(ctx, cs, a);
        cs.submit_and_wait();
        ASSERT_EQ(b.download(a.y, sentinel.size()), got) << "second run differs";
    }

    std::vector<uint32_t> ref_ids = ids;
    for (uint32_t& id : ref_ids) id = id >= c.n_experts ? 0 : id;  // the reference rejects them
    const auto want = reference::matvec_id(c.type, w, c.K, c.N, c.n_experts, ref_ids, ids_stride,
                                           c.n_used, c.n_tokens, x, x_stride, c.x_per_slot);
    for (uint32_t p = 0; p < pairs; ++p) {
        for (uint32_t r = c.N; r < y_stride; ++r) {
            ASSERT_EQ(got[size_t{p} * y_stride + r], k_sentinel) << "wrote past row N, pair " << p;
        }
        const uint32_t t = p / c.n_used;
        if (ids[t * ids_stride + p % c.n_used] < c.n_experts) continue;
        for (uint32_t r = 0; r < c.N; ++r) {
            ASSERT_EQ(got[size_t{p} * y_stride + r], k_sentinel) << "wrote pair " << p;
            got[size_t{p} * y_stride + r] = static_cast<float>(want.value[size_t{p} * c.N + r]);
        }
    }
    EXPECT_TRUE(dot_close(got, y_stride, want, c.N));
}

// A K that is a multiple of the block but not of the 256-element K-quant super-window where
// possible; float types get an odd K (scalar x loads).
uint32_t ragged_k(GgmlType type) {
    switch (traits_of(type).block_elems) {
        case 1:
            return 97;
        case 32:
            return 320;
        default:
            return 512;
    }
}

class MatMulId : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

// The 32 x 32 / 4 x 4 tile: the decode of every type, with the cheapest kernel to compile on
// lavapipe (its 8 x 8 CPU tile takes ~4 s per type); DeviceTile runs the device's own tile.
TEST_P(MatMulId, MatchesReferenceOnRaggedShapes) {
    const GgmlType type = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t K = ragged_k(type);
    const ops::MatMulTile tile{32, 32, 4, 4};
    run_matmul_id(ctx(), {type, K, 200, 8, 2, 37, false, tile}, rng);
    run_matmul_id(ctx(), {type, K, 200, 8, 2, 37, true, tile}, rng);
    run_matmul_id(ctx(), {type, K, 33, 5, 3, 1, false, tile}, rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulId, ::testing::ValuesIn(k_weight_types),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

using MatMulIdTiles = VkTest;

// The tile the wrapper picks for this device, on the expert types of the tiny-moe fixture; the
// second run of a case must give the same bits.
TEST_F(MatMulIdTiles, DeviceTileMatchesReference) {
    VKLLM_SEEDED_RNG(rng);
    run_matmul_id(ctx(), {GgmlType::Q4_K, 512, 200, 8, 2, 37, false}, rng, true);
    run_matmul_id(ctx(), {GgmlType::Q5_0, 320, 200, 8, 2, 37, true}, rng, true);
    run_matmul_id(ctx(), {GgmlType::Q4_K, 256, 33, 5, 3, 1, false}, rng);
}

// The tiles the wrapper picks on GPUs and its fallback (the CPU tile runs in MatMulId.*), with
// more pairs than one column tile per expert.
TEST_F(MatMulIdTiles, EveryTileConfigurationMatchesReference) {
    VKLLM_SEEDED_RNG(rng);
    const ops::MatMulTile tiles[] = {
        {32, 32, 4, 4}, {64, 32, 4, 4}, {64, 64, 4, 4}, {128, 128, 8, 8}};
    const vk::DeviceInfo& info = ctx().device().info();
    for (const ops::MatMulTile& t : tiles) {
        const uint32_t shared = 32 * (t.bm + 1 + t.bn + 1) * 4 + 8 * t.bn;
        const uint32_t threads = (t.bm / t.tm) * (t.bn / t.tn);
        if (shared > info.max_shared_memory_bytes || threads > info.max_workgroup_invocations) {
            continue;
        }
        // One type (each tile is a pipeline to compile); tile edges on both sides.
        run_matmul_id(ctx(), {GgmlType::Q4_K, 256, t.bm + 7, 6, 4, t.bn + 9, true, t}, rng);
        run_matmul_id(ctx(), {GgmlType::Q4_K, 256, 2 * t.bm - 1, 4, 2, 2 * t.bn + 1, false, t},
                      rng);
    }
}

// The grouping pass alone: counts, offsets and each expert's pairs (as a set; ascending order
// is what lavapipe gives but not part of the contract).
TEST_F(MatMulIdTiles, GroupsListEveryPairOfEachExpert) {
    VKLLM_SEEDED_RNG(rng);
    const IdMmCase c{GgmlType::F32, 4, 1, 6, 3, 300, false};  // more pairs than one workgroup
    const uint32_t ids_stride = c.n_used + 1;
    const std::vector<uint32_t> ids = make_ids(c, ids_stride, rng);
    CaseBuffers b(ctx());
    const vk::TensorSpans wt = b.arena.allocate_rows(4 * c.K, c.n_experts);
    ops::MatMulIdArgs a;
    a.weight = {&wt, c.type, c.K, c.n_experts};
    a.n_rows = 1;
    a.n_experts = c.n_experts;
    a.ids = b.upload(ids);
    a.ids_stride = ids_stride;
    a.n_used = c.n_used;
    a.n_tokens = c.n_tokens;
    a.x = b.arena.allocate(4 * c.K * c.n_tokens);
    a.x_stride = c.K;
    a.y = b.arena.allocate(4 * c.n_used * c.n_tokens);
    a.y_stride = 1;
    const uint64_t bytes = ops::moe_groups_bytes(c.n_experts, c.n_used, c.n_tokens);
    a.groups = b.arena.allocate(bytes);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    ops::record_matmul_id(ctx(), cs, a);
    cs.submit_and_wait();
    std::vector<uint32_t> g(bytes / 4);
    ctx().transfer().download(a.groups, std::as_writable_bytes(std::span(g)));
    const uint32_t E = c.n_experts;
    uint32_t offset = 0;
    for (uint32_t e = 0; e < E; ++e) {
        std::vector<uint32_t> want;
        for (uint32_t p = 0; p < c.n_used * c.n_tokens; ++p) {
            if (ids[(p / c.n_used) * ids_stride + p % c.n_used] == e) want.push_back(p);
        }
        ASSERT_EQ(g[e], want.size()) << "count of expert " << e;
        ASSERT_EQ(g[E + e], offset) << "offset of expert " << e;
        std::vector<uint32_t> list(g.begin() + 2 * E + offset,
                                   g.begin() + 2 * E + offset + want.size());
        std::sort(list.begin(), list.end());
        EXPECT_EQ(list, want) << "pairs of expert " << e;
        offset += static_cast<uint32_t>(want.size());
    }
    EXPECT_EQ(g[1], 0u);                  // expert 1 gets nothing
    EXPECT_EQ(g[E - 1], c.n_tokens + 1);  // the last: every token's slot 0 and token 0's slot 1
}

TEST_F(MatMulIdTiles, RejectsBadArguments) {
    CaseBuffers b(ctx());
    const vk::TensorSpans wt = b.arena.allocate_rows(row_bytes(GgmlType::Q8_0, 64), 12);
    ops::MatMulIdArgs a;
    a.weight = {&wt, GgmlType::Q8_0, 64, 12};
    a.n_rows = 4;
    a.n_experts = 3;
    a.ids = b.arena.allocate(4 * 2 * 16);
    a.ids_stride = 2;
    a.n_used = 2;
    a.n_tokens = 16;
    a.x = b.arena.allocate(4 * 64 * 16);
    a.x_stride = 64;
    a.y = b.arena.allocate(4 * 4 * 32);
    a.y_stride = 4;
    a.groups = b.arena.allocate(ops::moe_groups_bytes(3, 2, 16));
    vk::CommandStream cs(ctx().device());
    cs.begin();
    a.n_rows = 5;
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // 5 * 3 != 12
    a.n_rows = 4;
    a.n_tokens = 17;
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // ids, x, y small
    a.n_tokens = 0;
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // no pairs
    a.n_tokens = 16;
    a.groups = a.groups.sub(0, a.groups.size - 4);
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // groups small
    a.groups = b.arena.allocate(ops::moe_groups_bytes(3, 2, 16));
    a.ids_stride = 1;
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // stride < n_used
    a.ids_stride = 2;
    a.tile = {32, 32, 3, 4};
    EXPECT_THROW(ops::record_matmul_id(ctx(), cs, a), std::invalid_argument);  // bm % tm != 0
    a.tile = {};
    ops::record_matmul_id(ctx(), cs, a);  // the valid call records
    cs.submit_and_wait();
}

// Experts straddling (shrunk, 1 MiB) bindings: each part's dispatch computes only its rows.
TEST(MatMulIdSplit, ExpertsStraddlingBindingsMatchReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    // 576-byte rows: 1820 rows per part, so expert 6 (rows 1800..2099) straddles parts 0 and 1
    // inside one 32-row tile (the cheap-to-compile tile: this context compiles its own).
    const ops::MatMulTile tile{32, 32, 4, 4};
    run_matmul_id(*env->context, {GgmlType::Q4_K, 1024, 300, 8, 4, 19, true, tile}, rng);
    // 1088-byte rows: part boundaries fall at no multiple of N = 300 or of the tile.
    run_matmul_id(*env->context, {GgmlType::Q8_0, 1024, 300, 8, 2, 21, false, tile}, rng);
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

// The model's prefill experts on this op (chunks whose pairs per expert reach the model's cut,
// runtime/model/forward_graph.cpp) against the CPU reference forward, unsplit and with every
// expert tensor split over 256 KiB bindings. The model tests' own CPU comparison prefills in
// 16-token chunks, which stay on the expert mat-vec. Tolerance as there: max |logit diff| <=
// 0.05 (logits lie in +-30; mostly the f16 K/V cache, which the reference keeps in f32).
TEST(MatMulIdModel, MoePrefillChunksMatchCpuReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    const GgufFile file =
        GgufFile::open(std::string(VKLLM_TEST_MODELS_DIR) + "/tiny-moe-q4_k_m.gguf");
    const reference::Gemma4Reference ref(file);
    std::vector<int32_t> tokens(52);
    tokens[0] = 2;  // BOS
    uint32_t r = 777;
    for (size_t i = 1; i < tokens.size(); ++i) {
        r = r * 1664525u + 1013904223u;
        tokens[i] = static_cast<int32_t>(300 + (r >> 8) % 3700);
    }
    const std::vector<float> want = ref.forward(tokens);
    ASSERT_EQ(ref.config().n_expert, 8u);  // 48 tokens x 2 slots = 12 pairs per expert
    ASSERT_EQ(ref.config().n_expert_used, 2u);
    for (const uint64_t binding : {uint64_t{0}, uint64_t{256} << 10}) {
        SCOPED_TRACE(binding ? "256 KiB bindings" : "default bindings");
        std::unique_ptr<VkEnv> small;
        if (binding) {
            small = make_vk_env({binding, 1 << 20});
            ASSERT_TRUE(small);
        }
        vk::Context& ctx = binding ? *small->context : *shared_vk_env(&reason)->context;
        ModelOptions o;
        o.int_dot_matvec = false;  // fp32 products, as the CPU reference
        o.n_ctx = 64;
        o.prefill_chunk = 48;
        Gemma4Model model(ctx, file, o);
        std::vector<float> got = model.prefill(0, std::span(tokens).first(48), true);
        for (size_t i = 48; i < tokens.size(); ++i) {
            const SeqToken st{0, tokens[i]};
            const std::vector<float> z = model.decode(std::span(&st, 1));
            got.insert(got.end(), z.begin(), z.end());
        }
        ASSERT_EQ(got.size(), want.size());
        double d = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            d = std::max(d, std::fabs(double{got[i]} - double{want[i]}));
            if (std::isnan(got[i])) d = INFINITY;
        }
        std::printf(
            "[ info     ] tiny-moe-q4_k_m, 48-token prefill chunk, %s: max |logit diff| "
            "vs CPU %g\n",
            binding ? "256 KiB bindings" : "default bindings", d);
        EXPECT_LE(d, 0.05);
        if (small) {
            for (const auto& m : small->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
        }
    }
}

// Not an assertion: milliseconds of the expert mat-vec and the expert mat-mat (grouping
// included) on the same routing, at the tiny-moe fixture's shapes and a 26B-A4B expert shape,
// for the design notes (the 26B shapes only on GPUs). Opt in with VKLLM_MATMUL_BENCH=1; set
// VKLLM_MATMUL_ID_TILES=1 as well to time a few tiles besides the device's.
TEST_F(MatMulIdTiles, PrintsExpertMatVecVsMatMul) {
    if (std::getenv("VKLLM_MATMUL_BENCH") == nullptr) GTEST_SKIP() << "set VKLLM_MATMUL_BENCH=1";
    VKLLM_SEEDED_RNG(rng);
    struct Shape {
        const char* name;
        GgmlType type;
        uint32_t K, N, E, k, T;
    };
    const Shape shapes[] = {{"tiny-moe gate_up", GgmlType::Q4_K, 256, 384, 8, 2, 128},
                            {"tiny-moe down", GgmlType::Q5_0, 192, 256, 8, 2, 128},
                            {"26B-A4B gate_up", GgmlType::Q4_K, 2816, 1408, 128, 8, 16},
                            {"26B-A4B gate_up", GgmlType::Q4_K, 2816, 1408, 128, 8, 64}};
    const char* tiles_env = std::getenv("VKLLM_MATMUL_ID_TILES");
    std::vector<ops::MatMulTile> tiles = {{}};
    if (tiles_env != nullptr) {
        tiles.insert(tiles.end(), {{32, 32, 8, 8},
                                   {32, 16, 8, 8},
                                   {64, 16, 8, 8},
                                   {16, 32, 8, 8},
                                   {64, 32, 8, 8},
                                   {64, 64, 16, 16}});
    }
    const bool cpu = ctx().device().info().type == VK_PHYSICAL_DEVICE_TYPE_CPU;
    for (const Shape& sh : shapes) {
        if (cpu && sh.E > 8) continue;  // minutes per call on lavapipe
        const GgmlType type = sh.type;
        const uint32_t P = sh.k * sh.T;
        vk::Arena arena(ctx().device(), vk::MemoryIntent::DeviceLocal, 64 << 20);
        const vk::TensorSpans wt = arena.allocate_rows(row_bytes(type, sh.K), sh.N * sh.E);
        const std::vector<std::byte> w = quant::random_quantized(type, size_t{sh.K} * sh.N, rng);
        std::vector<std::byte> all;  // one random expert, repeated
        all.reserve(w.size() * sh.E);
        for (uint32_t e = 0; e < sh.E; ++e) all.insert(all.end(), w.begin(), w.end());
        ops::upload_weight(ctx().transfer(), wt, type, all);
        std::vector<uint32_t> ids(P);
        std::vector<uint32_t> perm(sh.E);
        for (uint32_t t = 0; t < sh.T; ++t) {  // k distinct experts per token, as top-k gives
            for (uint32_t e = 0; e < sh.E; ++e) perm[e] = e;
            std::shuffle(perm.begin(), perm.end(), rng);
            for (uint32_t s = 0; s < sh.k; ++s) ids[t * sh.k + s] = perm[s];
        }
        const std::vector<float> x = random_normal(rng, size_t{sh.K} * sh.T);
        const vk::BufferSpan ids_s = arena.allocate(P * 4);
        ctx().transfer().upload(ids_s, std::as_bytes(std::span(ids)));
        const vk::BufferSpan xs = arena.allocate(x.size() * 4);
        ctx().transfer().upload(xs, std::as_bytes(std::span(x)));
        const vk::BufferSpan ys = arena.allocate(size_t{sh.N} * P * 4);
        ops::MatVecIdArgs v;
        v.weight = {&wt, type, sh.K, sh.N * sh.E};
        v.n_rows = sh.N;
        v.n_experts = sh.E;
        v.ids = ids_s;
        v.ids_stride = sh.k;
        v.n_used = sh.k;
        v.n_tokens = sh.T;
        v.x = xs;
        v.x_stride = sh.K;
        v.y = ys;
        v.y_stride = sh.N;
        ops::MatMulIdArgs m;
        static_cast<ops::MatVecIdArgs&>(m) = v;
        m.groups = arena.allocate(ops::moe_groups_bytes(sh.E, sh.k, sh.T));
        constexpr int k_reps = 5;
        for (const ops::MatMulTile& tile : tiles) {
            m.tile = tile;
            double ms[2] = {};
            for (int pass = 0; pass < 2; ++pass) {  // the first pass compiles and warms up
                vk::CommandStream cs(ctx().device());
                cs.begin();
                const uint32_t t0 = cs.timestamp();
                for (int i = 0; i < k_reps; ++i) ops::record_matvec_id(ctx(), cs, v);
                const uint32_t t1 = cs.timestamp();
                for (int i = 0; i < k_reps; ++i) ops::record_matmul_id(ctx(), cs, m);
                const uint32_t t2 = cs.timestamp();
                cs.submit_and_wait();
                ms[0] = cs.elapsed_ns(t0, t1) * 1e-6 / k_reps;
                ms[1] = cs.elapsed_ns(t1, t2) * 1e-6 / k_reps;
            }
            const double gflop = 2.0 * P * sh.N * sh.K * 1e-9;
            std::printf(
                "%-16s %-4s K=%u N=%u E=%u k=%u T=%3u: matvec_id %8.3f ms (%5.2f GFLOP/s), "
                "matmul_id tile %ux%u/%ux%u %8.3f ms (%5.2f GFLOP/s)\n",
                sh.name, std::string(traits_of(type).name).c_str(), sh.K, sh.N, sh.E, sh.k, sh.T,
                ms[0], gflop / ms[0] * 1e3, tile.bm, tile.bn, tile.tm, tile.tn, ms[1],
                gflop / ms[1] * 1e3);
        }
    }
}

}  // namespace
}  // namespace vkllm::test
