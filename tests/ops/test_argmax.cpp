// Argmax per row (runtime/ops/argmax.h) against the reference (reference/routing.h): exact ids.

#include <gtest/gtest.h>

#include <limits>

#include "reference/routing.h"
#include "runtime/ops/argmax.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr float k_inf = std::numeric_limits<float>::infinity();
constexpr float k_nan = std::numeric_limits<float>::quiet_NaN();

std::vector<uint32_t> gpu_argmax(vk::Context& c, const std::vector<float>& x, uint32_t n) {
    const vk::TensorSpans dx = upload_rows(c, x, n);
    const vk::TensorSpans ids = alloc_rows(c, 1, x.size() / n);
    run(c, [&](vk::CommandStream& cs) { ops::record_argmax(c, cs, dx, ids); });
    return download_rows<uint32_t>(c, ids);
}

class ArgmaxShapes : public VkTest, public ::testing::WithParamInterface<uint32_t> {};
using Argmax = VkTest;

TEST_P(ArgmaxShapes, MatchesCpuReferenceWithTies) {
    const uint32_t n = GetParam(), rows = 4;
    VKLLM_SEEDED_RNG(rng);
    // Values on a coarse grid so ties are common; row 3 puts the max at two far-apart places.
    std::vector<float> x(size_t{n} * rows);
    std::uniform_int_distribution<int> d(-20, 20);
    for (float& v : x) v = static_cast<float>(d(rng)) * 0.5f;
    if (n > 1) {
        std::uniform_int_distribution<uint32_t> at(0, n - 1);
        const uint32_t i = at(rng), j = at(rng);
        x[3 * size_t{n} + i] = x[3 * size_t{n} + j] = 100.0f;
    }
    EXPECT_EQ(gpu_argmax(ctx(), x, n), ref::argmax_rows(x, n));
}

INSTANTIATE_TEST_SUITE_P(Ragged, ArgmaxShapes,
                         ::testing::Values(1u, 7u, 255u, 257u, 2817u, 262144u));

TEST_F(Argmax, TiesGoToTheLowestIndex) {
    const uint32_t n = 262144;  // the vocabulary size: every invocation strides many times
    std::vector<float> x(n * 2, 0.0f);
    for (uint32_t i : {70000u, 5000u, 262143u, 1000u}) x[i] = 3.0f;  // row 0: lowest is 1000
    std::fill(x.begin() + n, x.end(), -1.0f);                        // row 1: all equal
    EXPECT_EQ(gpu_argmax(ctx(), x, n), (std::vector<uint32_t>{1000, 0}));
}

TEST_F(Argmax, NaNNeverWinsAndInfinitiesOrder) {
    const uint32_t n = 5;
    const std::vector<float> x = {k_nan,  1.0f,   k_nan,  2.0f,   k_nan,   // 3
                                  -k_inf, -k_inf, -k_inf, -k_inf, -k_inf,  // 0
                                  k_nan,  k_nan,  k_nan,  k_nan,  k_nan,   // 0 (nothing)
                                  1.0f,   k_inf,  k_nan,  k_inf,  3.0f};   // 1
    EXPECT_EQ(gpu_argmax(ctx(), x, n), (std::vector<uint32_t>{3, 0, 0, 1}));
    EXPECT_EQ(ref::argmax_rows(x, n), (std::vector<uint32_t>{3, 0, 0, 1}));
}

TEST_F(Argmax, RejectsAWrongIdShape) {
    const vk::TensorSpans x = alloc_rows(ctx(), 10, 2);
    const vk::TensorSpans ids3 = alloc_rows(ctx(), 1, 3);
    const vk::TensorSpans ids2x2 = alloc_rows(ctx(), 2, 2);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_argmax(ctx(), cs, x, ids3), std::invalid_argument);
    EXPECT_THROW(ops::record_argmax(ctx(), cs, x, ids2x2), std::invalid_argument);
    cs.submit_and_wait();
}

using ArgmaxSplit = SplitTensorTest;

TEST_F(ArgmaxSplit, LogitsSplitAcrossBindingsWithIdsInOne) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 3000, rows = 11;  // one logits row per part, all ids in one part
    const auto x = random_normal(rng, size_t{n} * rows);
    EXPECT_EQ(gpu_argmax(small(), x, n), ref::argmax_rows(x, n));
}

}  // namespace
}  // namespace vkllm::test
