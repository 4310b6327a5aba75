// Soft-capping (runtime/ops/softcap.h) against the fp64 reference (reference/activation.h).
// Tolerance: rtol 2e-6, atol 1e-30. x * (1/cap) costs 1 ulp (+0.5 for rounding 1/cap), tanh
// ~4 ulp (series below 0.3, else exp + one division, no cancellation), * cap 0.5 ulp: ~6 ulp =
// 7e-7 relative; the test asserts a relative bound even near 0, where GLSL tanh is imprecise.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "reference/activation.h"
#include "runtime/ops/softcap.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-30, 2e-6};

class SoftcapShapes : public VkTest, public ::testing::WithParamInterface<uint32_t> {};
using Softcap = VkTest;

TEST_P(SoftcapShapes, MatchesCpuReference) {
    const uint32_t n = GetParam(), rows = 3;
    VKLLM_SEEDED_RNG(rng);
    auto x = random_normal(rng, size_t{n} * rows, 40.0f);
    const float edges[] = {0.0f, -0.0f, 1e-30f, -1e-6f, 8.9f, -9.1f, 1e4f, -1e30f};
    for (size_t i = 0; i < std::size(edges) && i < x.size(); ++i) x[i * 7 % x.size()] = edges[i];
    const vk::TensorSpans dx = upload_rows(ctx(), x, n);
    const vk::TensorSpans dy = alloc_rows(ctx(), n, rows);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_softcap(ctx(), cs, dx, dy, 30.0f); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dy), ref::softcap(x, 30.0), k_tol));
}

INSTANTIATE_TEST_SUITE_P(Ragged, SoftcapShapes, ::testing::Values(1u, 7u, 255u, 257u, 2817u));

TEST_F(Softcap, InPlaceSaturatesAtTheCapWithoutNaN) {
    const std::vector<float> x = {std::numeric_limits<float>::infinity(), -1e38f, 1e38f, 600.0f};
    const vk::TensorSpans dx = upload_rows(ctx(), x, x.size());
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_softcap(ctx(), cs, dx, dx, 30.0f); });
    EXPECT_EQ(download_rows<float>(ctx(), dx), (std::vector<float>{30.0f, -30.0f, 30.0f, 30.0f}));
}

TEST_F(Softcap, RejectsANonPositiveCap) {
    const vk::TensorSpans a = alloc_rows(ctx(), 10, 2);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_softcap(ctx(), cs, a, a, 0.0f), std::invalid_argument);
    EXPECT_THROW(ops::record_softcap(ctx(), cs, a, a, -30.0f), std::invalid_argument);
    cs.submit_and_wait();
}

using SoftcapSplit = SplitTensorTest;

TEST_F(SoftcapSplit, VocabularyRowsSplitAcrossBindingsMatchCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 4000, rows = 5;  // 16000-byte rows: one row per 16 KiB part
    const auto x = random_normal(rng, size_t{n} * rows, 40.0f);
    const vk::TensorSpans dx = upload_rows(small(), x, n);
    ASSERT_EQ(dx.parts.size(), rows);
    const vk::TensorSpans dy = alloc_rows(small(), n, rows);
    run(small(), [&](vk::CommandStream& cs) { ops::record_softcap(small(), cs, dx, dy, 30.0f); });
    EXPECT_TRUE(all_close(download_rows<float>(small(), dy), ref::softcap(x, 30.0), k_tol));
}

}  // namespace
}  // namespace vkllm::test
