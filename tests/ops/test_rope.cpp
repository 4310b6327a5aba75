// RoPE NEOX (runtime/ops/rope.h) against the fp64 reference (reference/rope.h), whose angle is
// exact: theta = p * base^(-2i/n_rot) / ff_i in double.
// Tolerance: atol 1e-5, rtol 0. The kernel forms theta in double-float turns (relative error
// ~1e-13 after the power and the division: <= 2e-6 rad for |p| < 2^24) and evaluates sin/cos by
// polynomial to ~1e-7, so |dy| <= (|u0| + |u1|) * 2e-6 + fp32 rounding: < 1e-5 for N(0, 1)
// inputs; lavapipe measures <= 6e-7 at p = 999983 and 2^24 - 1. A plain fp32 angle would be off
// by up to 0.06 rad at p = 999983 and miss this by three orders of magnitude.

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "reference/rope.h"
#include "runtime/ops/rope.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-5, 0};

struct RopeCase {
    uint32_t head_dim, n_heads, n_rot;
    float base;
    bool freq_factors;  // random factors in [0.5, 8]
    bool large_positions;
};

std::vector<int32_t> positions_for(std::mt19937_64& rng, size_t n, bool large) {
    // Large: near the top of Gemma 4's context and past it (|p| < 2^24 is the documented range).
    static const int32_t k_large[] = {999983, 262143, 0, 1, 16777215, 524287, 131071, -3};
    std::vector<int32_t> p(n);
    std::uniform_int_distribution<int32_t> d(0, 4096);
    for (size_t i = 0; i < n; ++i) p[i] = large ? k_large[i % std::size(k_large)] : d(rng);
    return p;
}

void check_rope(vk::Context& c, const RopeCase& rc, uint32_t tokens, bool in_place,
                std::mt19937_64& rng) {
    const uint32_t row = rc.head_dim * rc.n_heads;
    const auto x = random_normal(rng, size_t{row} * tokens);
    const auto pos = positions_for(rng, tokens, rc.large_positions);
    const auto ff = random_uniform(rng, rc.n_rot / 2, 0.5f, 8.0f);
    const vk::TensorSpans dx = upload_rows(c, x, row);
    const vk::TensorSpans dy = in_place ? dx : alloc_rows(c, row, tokens);
    ops::RopeArgs args{rc.head_dim, rc.n_heads, rc.n_rot, rc.base, upload_span(c, pos), {}};
    if (rc.freq_factors) args.freq_factors = upload_span(c, ff);
    run(c, [&](vk::CommandStream& cs) { ops::record_rope(c, cs, dx, dy, args); });
    const auto want =
        ref::rope_neox(x, rc.head_dim, rc.n_heads, rc.n_rot, double{rc.base}, pos,
                       rc.freq_factors ? std::span<const float>(ff) : std::span<const float>());
    EXPECT_TRUE(all_close(download_rows<float>(c, dy), want, k_tol));
}

class RopeShapes : public VkTest,
                   public ::testing::WithParamInterface<std::tuple<RopeCase, uint32_t>> {};
using Rope = VkTest;

TEST_P(RopeShapes, MatchesCpuReference) {
    const auto [rc, tokens] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    check_rope(ctx(), rc, tokens, false, rng);
}

INSTANTIATE_TEST_SUITE_P(
    Ragged, RopeShapes,
    ::testing::Combine(
        ::testing::Values(RopeCase{256, 2, 256, 1e4f, false, false},  // Gemma 4 SWA layer
                          RopeCase{256, 3, 256, 1e4f, false, true},
                          RopeCase{64, 3, 32, 1e4f, false, false},  // partial: 32 dims pass through
                          RopeCase{130, 1, 2, 1e4f, false, true},   // one pair, 128 pass through
                          RopeCase{40, 5, 38, 5e5f, true, true},  // n_rot/2 = 19: not a power of 2
                          RopeCase{128, 2, 128, 1e6f, true, true}),
        ::testing::Values(1u, 7u)));

TEST_F(Rope, ProportionalRopeOfGemma4FullLayersAtLargePositions) {
    // Full layers: n_rot = head_dim = 512, base 1e6, rope_freqs = 1 for the first 64 pairs and
    // 1e30 after (gemma4-model.md §2.2, §3.3): only pairs (i, i + 256), i < 64, rotate.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t head_dim = 512, n_heads = 2, tokens = 8;
    std::vector<float> ff(head_dim / 2, 1e30f);
    std::fill(ff.begin(), ff.begin() + 64, 1.0f);
    const auto x = random_normal(rng, size_t{head_dim} * n_heads * tokens);
    const auto pos = positions_for(rng, tokens, true);
    const vk::TensorSpans dx = upload_rows(ctx(), x, head_dim * n_heads);
    const vk::TensorSpans dy = alloc_rows(ctx(), head_dim * n_heads, tokens);
    ops::RopeArgs args{
        head_dim, n_heads, head_dim, 1e6f, upload_span(ctx(), pos), upload_span(ctx(), ff)};
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_rope(ctx(), cs, dx, dy, args); });
    const auto got = download_rows<float>(ctx(), dy);
    EXPECT_TRUE(
        all_close(got, ref::rope_neox(x, head_dim, n_heads, head_dim, 1e6, pos, ff), k_tol));
    // Pairs past 64 have theta <= 2^24 / 1e30, so x cos - y sin moves x by at most ~1e-22: the
    // identity, bit-exact unless x is ~0 (random_normal can draw exact zeros).
    for (uint32_t t = 0; t < tokens; ++t) {
        for (uint32_t h = 0; h < n_heads; ++h) {
            for (uint32_t i = 64; i < 256; ++i) {
                for (uint32_t j : {i, i + 256}) {
                    const size_t k = (size_t{t} * n_heads + h) * head_dim + j;
                    ASSERT_LE(std::fabs(got[k] - x[k]), 1e-20f)
                        << "token " << t << " head " << h << " dim " << j;
                    if (std::fabs(x[k]) > 1e-12f) {
                        ASSERT_EQ(got[k], x[k]);
                    }
                }
            }
        }
    }
}

TEST_F(Rope, InPlaceMatchesCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    check_rope(ctx(), {64, 4, 48, 1e4f, true, true}, 9, true, rng);
}

TEST_F(Rope, PositionZeroIsIdentity) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t head_dim = 256, n_heads = 2;
    const auto x = random_normal(rng, size_t{head_dim} * n_heads);
    const vk::TensorSpans dx = upload_rows(ctx(), x, head_dim * n_heads);
    const vk::TensorSpans dy = alloc_rows(ctx(), head_dim * n_heads, 1);
    ops::RopeArgs args{
        head_dim, n_heads, head_dim, 1e4f, upload_span(ctx(), std::vector<int32_t>{0}), {}};
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_rope(ctx(), cs, dx, dy, args); });
    EXPECT_EQ(download_rows<float>(ctx(), dy), x);
}

TEST_F(Rope, RejectsBadShapes) {
    const vk::TensorSpans x = alloc_rows(ctx(), 64, 2);
    const vk::BufferSpan pos = upload_span(ctx(), std::vector<int32_t>{0, 1});
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_rope(ctx(), cs, x, x, {32, 1, 32, 1e4f, pos, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rope(ctx(), cs, x, x, {64, 1, 33, 1e4f, pos, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rope(ctx(), cs, x, x, {64, 1, 66, 1e4f, pos, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rope(ctx(), cs, x, x, {64, 1, 64, 0.0f, pos, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rope(ctx(), cs, x, x, {64, 1, 64, 1e4f, pos.sub(0, 4), {}}),
                 std::invalid_argument);
    cs.submit_and_wait();
}

using RopeSplit = SplitTensorTest;

TEST_F(RopeSplit, TokensSplitAcrossBindingsUseTheirOwnPositions) {
    // 16 KiB bindings hold 4 tokens of 1024 floats: 11 tokens take 3 parts.
    VKLLM_SEEDED_RNG(rng);
    check_rope(small(), {256, 4, 256, 1e4f, false, true}, 11, false, rng);
}

}  // namespace
}  // namespace vkllm::test
