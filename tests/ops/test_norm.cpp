// RMSNorm (runtime/ops/norm.h) against the fp64 reference (reference/norm.h).
// Tolerance: rtol 1e-5, atol 1e-6 (1e-5 with a residual). The fp32 kernel's error is the sum of
// squares (per-invocation running sums then a subgroup tree, relative error ~n/256 * 2^-24 plus
// log2(256) * 2^-24), inversesqrt (2 ulp) and three rounded products: ~1e-6 relative at n = 2817.
// With a residual the output is a sum of O(1) terms, so the bound is absolute.

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "reference/norm.h"
#include "runtime/ops/norm.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/row_parts.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-6, 1e-5};
constexpr Tolerance k_tol_residual{1e-5, 1e-5};

// (slice length n, slices per row, rows, with weight, with residual)
using NormShape = std::tuple<uint32_t, uint32_t, uint32_t, bool, bool>;

class RmsNormShapes : public VkTest, public ::testing::WithParamInterface<NormShape> {};
using RmsNorm = VkTest;

TEST_P(RmsNormShapes, MatchesCpuReference) {
    const auto [n, per_row, rows, with_weight, with_residual] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t row = n * per_row;
    const auto x = random_normal(rng, size_t{row} * rows, 2.0f);
    const auto w = random_normal(rng, n);
    const auto r = random_normal(rng, size_t{row} * rows);
    const vk::TensorSpans dx = upload_rows(ctx(), x, row);
    const vk::TensorSpans dy = alloc_rows(ctx(), row, rows);
    ops::RmsNormArgs args{n, 1e-6f, 1.0f, {}, {}, {}};
    if (with_weight) args.weight = upload_span(ctx(), w);
    if (with_residual) args.residual = upload_rows(ctx(), r, row);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_rms_norm(ctx(), cs, dx, dy, args); });
    const auto want = ref::rms_norm(
        x, n, 1e-6, with_weight ? std::span<const float>(w) : std::span<const float>(), 1.0,
        with_residual ? std::span<const float>(r) : std::span<const float>());
    EXPECT_TRUE(
        all_close(download_rows<float>(ctx(), dy), want, with_residual ? k_tol_residual : k_tol));
}

INSTANTIATE_TEST_SUITE_P(
    Ragged, RmsNormShapes,
    ::testing::Values(NormShape{1, 1, 1, true, false}, NormShape{7, 1, 3, true, false},
                      NormShape{255, 1, 2, true, false}, NormShape{257, 1, 5, false, false},
                      NormShape{2817, 1, 3, true, true},
                      // per-head forms: [head_dim, n_heads, n_tokens]
                      NormShape{256, 3, 7, true, false},   // q/k norm, shared head_dim weight
                      NormShape{512, 2, 3, false, false},  // V norm: no weight
                      NormShape{255, 4, 1, false, true}));

TEST_F(RmsNorm, ScaleMultipliesTheNormalisedValue) {
    // The MoE router input: RMS_1(a) * (1/sqrt(n)), then an elementwise weight.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 2816, rows = 2;
    const auto x = random_normal(rng, size_t{n} * rows);
    const auto w = random_uniform(rng, n, 0.5f, 2.0f);
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    const vk::TensorSpans dy = alloc_rows(ctx(), n, rows);
    const double scale = 1.0 / std::sqrt(double{n});
    ops::RmsNormArgs args{n, 1e-6f, static_cast<float>(scale), upload_span(ctx(), w), {}, {}};
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_rms_norm(ctx(), cs, dx, dy, args); });
    EXPECT_TRUE(
        all_close(download_rows<float>(ctx(), dy), ref::rms_norm(x, n, 1e-6, w, scale), k_tol));
}

TEST_F(RmsNorm, InPlaceWithResidualAliasingTheOutput) {
    // h <- h + RMS_w(x): y and residual are the same tensor.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 1000, rows = 3;
    const auto x = random_normal(rng, size_t{n} * rows);
    const auto h = random_normal(rng, size_t{n} * rows);
    const auto w = random_normal(rng, n);
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    const vk::TensorSpans dh = upload_rows(ctx(), h, n);
    ops::RmsNormArgs args{n, 1e-6f, 1.0f, upload_span(ctx(), w), dh, {}};
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_rms_norm(ctx(), cs, dx, dh, args); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dh), ref::rms_norm(x, n, 1e-6, w, 1.0, h),
                          k_tol_residual));
}

TEST_F(RmsNorm, InPlaceOverwritesTheInput) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 256, rows = 4;
    const auto x = random_normal(rng, size_t{n} * rows);
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    run(ctx(), [&](vk::CommandStream& cs) {
        ops::record_rms_norm(ctx(), cs, dx, dx, {n, 1e-6f, 1.0f, {}, {}, {}});
    });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dx), ref::rms_norm(x, n, 1e-6), k_tol));
}

TEST_F(RmsNorm, ZeroRowGivesZerosThanksToEps) {
    const uint32_t n = 64;
    const std::vector<float> x(n, 0.0f);
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    const vk::TensorSpans dy = alloc_rows(ctx(), n, 1);
    run(ctx(), [&](vk::CommandStream& cs) {
        ops::record_rms_norm(ctx(), cs, dx, dy, {n, 1e-6f, 1.0f, {}, {}, {}});
    });
    for (float v : download_rows<float>(ctx(), dy)) EXPECT_EQ(v, 0.0f);
}

TEST_F(RmsNorm, RejectsMismatchedShapes) {
    const vk::TensorSpans x = alloc_rows(ctx(), 12, 2);
    const vk::TensorSpans y3 = alloc_rows(ctx(), 12, 3);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, y3, {12, 1e-6f, 1.0f, {}, {}, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {5, 1e-6f, 1.0f, {}, {}, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {0, 1e-6f, 1.0f, {}, {}, {}}),
                 std::invalid_argument);
    const vk::BufferSpan short_w = ctx().device_arena().allocate(8);
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {12, 1e-6f, 1.0f, short_w, {}, {}}),
                 std::invalid_argument);
    cs.submit_and_wait();
}

// q8_out: the norm's own q8_1 output is byte-identical to quantizing its fp32 output with
// record_quantize_q8_1 (both round with q8_1.glsl), for rows and for per-head slices, with and
// without a weight; and it is refused where it cannot apply.
TEST_F(RmsNorm, Q8OutEqualsQuantizingTheOutput) {
    VKLLM_SEEDED_RNG(rng);
    for (const auto& [n, per_row, rows, with_weight] :
         {std::tuple{96u, 1u, 3u, true}, std::tuple{2816u, 1u, 2u, true},
          std::tuple{256u, 3u, 2u, false}}) {
        SCOPED_TRACE("n=" + std::to_string(n) + " slices per row " + std::to_string(per_row));
        const uint32_t row = n * per_row, slices = per_row * rows;
        const auto x = random_normal(rng, size_t{row} * rows, 2.0f);
        const auto w = random_normal(rng, n);
        const vk::TensorSpans dx = upload_rows(ctx(), x, row);
        const vk::TensorSpans dy = alloc_rows(ctx(), row, rows);
        const uint64_t bytes = ops::q8_1_bytes(n, slices);
        const vk::BufferSpan fused = ctx().device_arena().allocate(bytes);
        const vk::BufferSpan separate = ctx().device_arena().allocate(bytes);
        ops::RmsNormArgs args{n, 1e-6f, 1.0f, {}, {}, fused};
        if (with_weight) args.weight = upload_span(ctx(), w);
        run(ctx(), [&](vk::CommandStream& cs) {
            ops::record_rms_norm(ctx(), cs, dx, dy, args);
            ops::record_quantize_q8_1(ctx(), cs, {dy.parts[0], n, n, slices, separate});
        });
        EXPECT_TRUE(same_bytes(ctx(), fused, separate));
    }
    const vk::TensorSpans x = alloc_rows(ctx(), 64, 2);
    const vk::BufferSpan q8 = ctx().device_arena().allocate(ops::q8_1_bytes(64, 2));
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {64, 1e-6f, 1.0f, {}, x, q8}),
                 std::invalid_argument);  // with a residual
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {16, 1e-6f, 1.0f, {}, {}, q8}),
                 std::invalid_argument);  // n not a multiple of 32
    EXPECT_THROW(ops::record_rms_norm(ctx(), cs, x, x, {64, 1e-6f, 1.0f, {}, {}, q8.sub(0, 64)}),
                 std::invalid_argument);  // too small
    cs.submit_and_wait();
}

using RmsNormSplit = SplitTensorTest;

TEST_F(RmsNormSplit, TensorsSplitAcrossBindingsMatchCpuReference) {
    // 16 KiB bindings: x (1000-float rows) splits every 4 rows; a 3000-row residual does too.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 250, per_row = 4, rows = 37;
    const auto x = random_normal(rng, size_t{n} * per_row * rows);
    const auto r = random_normal(rng, x.size());
    const auto w = random_normal(rng, n);
    const vk::TensorSpans dx = upload_rows(small(), x, n * per_row);
    ASSERT_GT(dx.parts.size(), 1u);
    const vk::TensorSpans dy = alloc_rows(small(), n * per_row, rows);
    ops::RmsNormArgs args{
        n, 1e-6f, 1.0f, upload_span(small(), w), upload_rows(small(), r, n * per_row), {}};
    run(small(), [&](vk::CommandStream& cs) { ops::record_rms_norm(small(), cs, dx, dy, args); });
    EXPECT_TRUE(all_close(download_rows<float>(small(), dy), ref::rms_norm(x, n, 1e-6, w, 1.0, r),
                          k_tol_residual));
}

}  // namespace
}  // namespace vkllm::test
