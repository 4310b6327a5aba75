// Softmax over rows (runtime/ops/softmax.h) against the fp64 reference (reference/softmax.h).
// Tolerance: rtol 1e-5, atol 1e-9. Each output is exp(.) / sum: exp to a few ulp (arguments <= 0
// and moderate), the sum of up to 70000 terms accumulated per invocation then by subgroup tree
// (relative error ~ (n/256 + 8) * 2^-24 ~ 2e-5 worst case at n = 70000, ~1e-6 typical), one
// product. atol covers probabilities that underflow.

#include <gtest/gtest.h>

#include <limits>
#include <tuple>

#include "reference/softmax.h"
#include "runtime/ops/softmax.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-9, 1e-5};
constexpr float k_inf = std::numeric_limits<float>::infinity();

using SoftmaxShape = std::tuple<uint32_t, uint32_t, float>;  // (n, rows, scale)

class SoftmaxShapes : public VkTest, public ::testing::WithParamInterface<SoftmaxShape> {};
using Softmax = VkTest;

TEST_P(SoftmaxShapes, MatchesCpuReference) {
    const auto [n, rows, scale] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const auto x = random_normal(rng, size_t{n} * rows, 4.0f);
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    const vk::TensorSpans dy = alloc_rows(ctx(), n, rows);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_softmax(ctx(), cs, dx, dy, scale); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dy), ref::softmax_rows(x, n, double{scale}),
                          {1e-9, n > 10000 ? 3e-5 : 1e-5}));
}

INSTANTIATE_TEST_SUITE_P(Ragged, SoftmaxShapes,
                         ::testing::Values(SoftmaxShape{1, 3, 1.0f}, SoftmaxShape{7, 2, 1.0f},
                                           SoftmaxShape{255, 3, 0.125f},
                                           SoftmaxShape{257, 2, -1.0f}, SoftmaxShape{2817, 2, 1.0f},
                                           SoftmaxShape{70001, 1, 1.0f}));

TEST_F(Softmax, MaskedEntriesGetZeroAndFullyMaskedRowsGiveZeros) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 300, rows = 3;
    auto x = random_normal(rng, size_t{n} * rows, 4.0f);
    for (uint32_t i = 0; i < n; i += 3) x[i] = -k_inf;   // row 0: every third masked
    for (uint32_t i = n; i < 2 * n; ++i) x[i] = -k_inf;  // row 1: all masked
    x[2 * n + 5] = 1e30f;                                // row 2: one huge logit (no overflow)
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_softmax(ctx(), cs, dx, dx); });  // in place
    const auto got = download_rows<float>(ctx(), dx);
    EXPECT_TRUE(all_close(got, ref::softmax_rows(x, n), k_tol));
    for (uint32_t i = 0; i < n; i += 3) EXPECT_EQ(got[i], 0.0f);
    EXPECT_EQ(got[2 * n + 5], 1.0f);
}

TEST_F(Softmax, RejectsMismatchedShapes) {
    const vk::TensorSpans a = alloc_rows(ctx(), 10, 2);
    const vk::TensorSpans b = alloc_rows(ctx(), 11, 2);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_softmax(ctx(), cs, a, b), std::invalid_argument);
    cs.submit_and_wait();
}

using SoftmaxSplit = SplitTensorTest;

TEST_F(SoftmaxSplit, RowsSplitAcrossBindingsMatchCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 1500, rows = 13;  // 2 rows per 16 KiB binding
    const auto x = random_normal(rng, size_t{n} * rows, 4.0f);
    const vk::TensorSpans dx = upload_rows(small(), x, n);
    const vk::TensorSpans dy = alloc_rows(small(), n, rows);
    run(small(), [&](vk::CommandStream& cs) { ops::record_softmax(small(), cs, dx, dy, 0.5f); });
    EXPECT_TRUE(all_close(download_rows<float>(small(), dy), ref::softmax_rows(x, n, 0.5), k_tol));
}

}  // namespace
}  // namespace vkllm::test
