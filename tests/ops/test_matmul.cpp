// Prefill mat-mat against the fp64 CPU reference (reference/matvec.h, whose multi-column form is
// exactly y = W x): every weight type, M and N around the tile sizes, both activation load paths
// (vec4 and scalar), every tile configuration, weights split over several bindings, and the
// grid-z fold of row tiles.
//
// Tolerance: |got - want| <= 1e-5 * sum_k |w_k x_k| + 1e-6 per output. The kernel decodes
// weights in fp32 (a fused multiply-add may round once where the reference rounds twice) and
// accumulates K products in fp32 in another order than the reference; both errors are a few
// ulps of sum |w x|, and 1e-5 (~170 ulps) leaves room for K up to a few thousand.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "quant/random_blocks.h"
#include "reference/matvec.h"
#include "runtime/ops/matmul.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"
#include "tests/support/weight_case.h"

namespace vkllm::test {
namespace {

constexpr float k_sentinel = -12345.0f;

struct MatMulCase {
    GgmlType type;
    uint32_t K, N, M;
    uint32_t max_groups_x = 0;
    ops::MatMulTile tile = {};
};

std::string describe(const MatMulCase& mc) {
    std::string s = std::string(traits_of(mc.type).name) + " K=" + std::to_string(mc.K) +
                    " N=" + std::to_string(mc.N) + " M=" + std::to_string(mc.M);
    if (mc.tile.bm != 0) {
        s += " tile " + std::to_string(mc.tile.bm) + "x" + std::to_string(mc.tile.bn) + "/" +
             std::to_string(mc.tile.tm) + "x" + std::to_string(mc.tile.tn);
    }
    return s;
}

void run_matmul(vk::Context& ctx, const MatMulCase& mc, std::mt19937_64& rng) {
    SCOPED_TRACE(describe(mc));
    // Odd column counts get an odd x stride (scalar activation loads), even ones a multiple of 4
    // (vec4 loads when K allows).
    const uint32_t x_stride = mc.K + (mc.M % 2 == 1 ? 1 : 4);
    const uint32_t y_stride = mc.N + 3;
    const std::vector<std::byte> w = quant::random_quantized(mc.type, size_t{mc.K} * mc.N, rng);
    const std::vector<float> x = random_normal(rng, size_t{x_stride} * mc.M);
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, mc.type, mc.K, mc.N);
    const std::vector<float> sentinel(size_t{y_stride} * mc.M, k_sentinel);
    ops::MatMulArgs a;
    a.weight = {&wt, mc.type, mc.K, mc.N};
    a.x = b.upload(x);
    a.x_stride = x_stride;
    a.y = b.upload(sentinel);
    a.y_stride = y_stride;
    a.M = mc.M;
    a.max_groups_x = mc.max_groups_x;
    a.tile = mc.tile;
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matmul(ctx, cs, a);
    cs.submit_and_wait();
    const std::vector<float> got = b.download(a.y, sentinel.size());
    const auto want = reference::matvec(mc.type, w, mc.K, mc.N, x, mc.M, x_stride);
    EXPECT_TRUE(dot_close(got, y_stride, want, mc.N));
    for (uint32_t m = 0; m < mc.M; ++m) {
        for (uint32_t n = mc.N; n < y_stride; ++n) {
            ASSERT_EQ(got[size_t{m} * y_stride + n], k_sentinel)
                << "wrote past row N, column " << m;
        }
    }
}

// A small and a larger K per block size: 32 * odd for the legacy types, 256 and 768 for
// K-quants; float types take a K that is not a multiple of 4 (scalar loads) and one that is.
std::pair<uint32_t, uint32_t> small_and_big_k(GgmlType type) {
    switch (traits_of(type).block_elems) {
        case 1:
            return {97, 356};
        case 32:
            return {32 * 3, 32 * 9};
        default:
            return {256, 768};
    }
}

class MatMul : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(MatMul, MatchesReferenceOnRaggedShapes) {
    const GgmlType type = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const auto [ks, kb] = small_and_big_k(type);
    for (const uint32_t M : {16u, 17u, 64u, 129u}) {
        for (const uint32_t N : {1u, 33u, 257u}) run_matmul(ctx(), {type, ks, N, M}, rng);
    }
    run_matmul(ctx(), {type, kb, 257, 16}, rng);
    run_matmul(ctx(), {type, kb, 33, 129}, rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMul, ::testing::ValuesIn(k_weight_types),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

using MatMulTiles = VkTest;

// Every tile the wrapper picks on some device, on every device that can hold it: the GPU tiles
// (64x32, 64x64, 64x128) otherwise only run on GPUs or under a device profile. Shapes straddle
// each tile's edges. A device with 32 KiB of shared memory (lavapipe) holds them all, since every
// choice plans within 32 KiB (docs/design/device-profiles.md); a smaller one (profile min-16k)
// must at least run each tile the wrapper itself picks there.
TEST_F(MatMulTiles, EveryTileConfigurationMatchesReference) {
    VKLLM_SEEDED_RNG(rng);
    const ops::MatMulTile tiles[] = {
        {32, 32, 4, 4}, {64, 32, 4, 4}, {64, 64, 4, 4}, {64, 128, 4, 8}, {16, 48, 2, 3}};
    const vk::DeviceInfo& info = ctx().device().info();
    std::vector<std::pair<uint32_t, uint32_t>> ran;
    for (const ops::MatMulTile& t : tiles) {
        const uint32_t shared = 32 * (t.bm + 1 + t.bn + 1) * 4;
        const uint32_t threads = (t.bm / t.tm) * (t.bn / t.tn);
        if (shared > info.max_shared_memory_bytes || threads > info.max_workgroup_invocations) {
            EXPECT_LT(info.max_shared_memory_bytes, 32768u) << t.bm << "x" << t.bn << " skipped";
            continue;
        }
        run_matmul(ctx(), {GgmlType::Q4_K, 256, t.bm + 1, t.bn + 1, 0, t}, rng);
        run_matmul(ctx(), {GgmlType::Q8_0, 64, 2 * t.bm - 1, t.bn - 1, 0, t}, rng);
        run_matmul(ctx(), {GgmlType::F16, 36, t.bm, 2 * t.bn, 0, t}, rng);
        ran.emplace_back(t.bm, t.bn);
    }
    for (uint32_t m : {16u, 48u, 512u}) {
        const ops::MatMulTile t = ops::matmul_tile(info, m);
        EXPECT_NE(std::find(ran.begin(), ran.end(), std::pair{t.bm, t.bn}), ran.end())
            << "the device's own tile " << t.bm << "x" << t.bn << " for M=" << m << " did not run";
    }
}

TEST_F(MatMulTiles, RowTilesBeyondGridXFoldIntoGridZ) {
    VKLLM_SEEDED_RNG(rng);
    // At most 3 (4) workgroups in x: the row tiles need several grid z slices, the last partial.
    run_matmul(ctx(), {GgmlType::Q8_0, 96, 257, 20, 3}, rng);
    run_matmul(ctx(), {GgmlType::Q6_K, 256, 300, 33, 4}, rng);
}

TEST_F(MatMulTiles, RejectsBadArguments) {
    CaseBuffers b(ctx());
    const vk::TensorSpans wt = b.arena.allocate_rows(row_bytes(GgmlType::Q4_0, 64), 4);
    ops::MatMulArgs a;
    a.weight = {&wt, GgmlType::Q4_0, 64, 4};
    a.x = b.arena.allocate(64 * 4 * 16);
    a.x_stride = 64;
    a.y = b.arena.allocate(4 * 4 * 16);
    a.y_stride = 4;
    a.M = 16;
    vk::CommandStream cs(ctx().device());
    cs.begin();
    a.M = 0;
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // no columns
    a.M = 17;
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // x, y too small
    a.M = 16;
    a.y_stride = 3;
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // y_stride < N
    a.y_stride = 4;
    a.weight.K = 48;
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // K % 32 != 0
    a.weight.K = 64;
    a.weight.type = GgmlType::IQ4_NL;
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // type not built
    a.weight.type = GgmlType::Q4_0;
    a.tile = {32, 32, 3, 4};
    EXPECT_THROW(ops::record_matmul(ctx(), cs, a), std::invalid_argument);  // bm % tm != 0
    a.tile = {};
    ops::record_matmul(ctx(), cs, a);  // the valid call records
    cs.submit_and_wait();
}

// Weights bigger than one (shrunk, 1 MiB) binding: one dispatch per part of whole rows.
TEST(MatMulSplit, WeightSpanningSeveralBindingsMatchesReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    const MatMulCase cases[] = {
        {GgmlType::Q4_K, 2048, 2000, 20},  // 2.3 MB: parts of 910 rows (not tile-aligned)
        {GgmlType::F16, 512, 2500, 33},    // 1024 rows per part
        {GgmlType::Q6_K, 1280, 1200, 17},  // 2-byte aligned blocks across parts
    };
    for (const MatMulCase& mc : cases) {
        ASSERT_GT(row_bytes(mc.type, mc.K) * mc.N, uint64_t{1} << 20);
        run_matmul(*env->context, mc, rng);
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

// Not an assertion: GFLOP/s of one 2816 x 2112 weight times 512 columns, per type with the
// device's tile and for Q4_K per candidate tile, printed for the design doc. Opt in with
// VKLLM_MATMUL_BENCH=1 (slow on lavapipe).
TEST_F(MatMulTiles, PrintsPrefillThroughput) {
    if (std::getenv("VKLLM_MATMUL_BENCH") == nullptr) GTEST_SKIP() << "set VKLLM_MATMUL_BENCH=1";
    VKLLM_SEEDED_RNG(rng);
    constexpr uint32_t K = 2816, N = 2112, M = 512;
    const std::vector<float> x = random_normal(rng, size_t{K} * M);
    vk::Arena arena(ctx().device(), vk::MemoryIntent::DeviceLocal, 64 << 20);
    const vk::BufferSpan xs = arena.allocate(x.size() * 4);
    ctx().transfer().upload(xs, std::as_bytes(std::span(x)));
    const vk::BufferSpan ys = arena.allocate(size_t{N} * M * 4);
    const auto time_one = [&](GgmlType type, const vk::TensorSpans& wt, ops::MatMulTile tile,
                              bool print) {
        ops::MatMulArgs a;
        a.weight = {&wt, type, K, N};
        a.x = xs;
        a.x_stride = K;
        a.y = ys;
        a.y_stride = N;
        a.M = M;
        a.tile = tile;
        constexpr int k_reps = 50;
        vk::CommandStream cs(ctx().device());
        cs.begin();
        for (int i = 0; i < 5; ++i) ops::record_matmul(ctx(), cs, a);  // warm-up
        const uint32_t t0 = cs.timestamp();
        for (int i = 0; i < k_reps; ++i) ops::record_matmul(ctx(), cs, a);
        const uint32_t t1 = cs.timestamp();
        cs.submit_and_wait();
        const double ns = cs.elapsed_ns(t0, t1) / k_reps;
        if (!print) return;
        std::printf("matmul %-5s K=%u N=%u M=%u tile %ux%u/%ux%u: %8.3f ms %8.1f GFLOP/s\n",
                    ops::weight_type_suffix(type), K, N, M, tile.bm, tile.bn, tile.tm, tile.tn,
                    ns * 1e-6, ops::matmul_flops(a) / ns);
    };
    const vk::DeviceInfo& info = ctx().device().info();
    for (int pass = 0; pass < 2; ++pass) {  // the first pass wakes the clocks up
        for (const GgmlType type : k_weight_types) {
            const std::vector<std::byte> w = quant::random_quantized(type, size_t{K} * N, rng);
            const vk::TensorSpans wt = arena.allocate_rows(row_bytes(type, K), N);
            ops::upload_weight(ctx().transfer(), wt, type, w);
            time_one(type, wt, {}, pass == 1);
            if (type != GgmlType::Q4_K || info.type == VK_PHYSICAL_DEVICE_TYPE_CPU) continue;
            const ops::MatMulTile tiles[] = {{32, 32, 4, 4},   {64, 32, 4, 4},  {64, 64, 4, 4},
                                             {64, 64, 8, 8},   {128, 64, 8, 4}, {64, 128, 4, 8},
                                             {128, 128, 8, 8}, {64, 64, 4, 8},  {32, 64, 4, 4}};
            for (const ops::MatMulTile& t : tiles) time_one(type, wt, t, pass == 1);
        }
    }
}

}  // namespace
}  // namespace vkllm::test
