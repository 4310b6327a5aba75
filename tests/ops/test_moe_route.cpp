// MoE routing (runtime/ops/moe_route.h) against the fp64 reference (reference/routing.h).
// Ids must match exactly. Weights: rtol 1e-5, atol 1e-7: each weight is
// exp(l - m) / Z / max(sum_S exp / Z, clamp) with fp32 exp (few ulp) and sums of <= 257 terms
// (relative error ~1e-6).

#include <gtest/gtest.h>

#include <limits>
#include <tuple>

#include "reference/routing.h"
#include "runtime/ops/moe_route.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-7, 1e-5};

struct Routed {
    std::vector<uint32_t> ids;
    std::vector<float> weights;
};

Routed gpu_route(vk::Context& c, const std::vector<float>& logits, uint32_t e, uint32_t k,
                 const std::vector<float>* scale = nullptr) {
    const uint32_t tokens = static_cast<uint32_t>(logits.size() / e);
    const vk::TensorSpans dl = upload_rows(c, logits, e);
    const vk::TensorSpans ids = alloc_rows(c, k, tokens);
    const vk::TensorSpans w = alloc_rows(c, k, tokens);
    ops::MoeRouteArgs args{e, k, {}};
    if (scale) args.expert_scale = upload_span(c, *scale);
    run(c, [&](vk::CommandStream& cs) { ops::record_moe_route(c, cs, dl, ids, w, args); });
    return {download_rows<uint32_t>(c, ids), download_rows<float>(c, w)};
}

void expect_matches_reference(vk::Context& c, const std::vector<float>& logits, uint32_t e,
                              uint32_t k, const std::vector<float>* scale = nullptr) {
    const Routed got = gpu_route(c, logits, e, k, scale);
    const ref::MoeRoute want = ref::moe_route(
        logits, e, k, scale ? std::span<const float>(*scale) : std::span<const float>());
    EXPECT_EQ(got.ids, want.ids);
    EXPECT_TRUE(all_close(got.weights, want.weights, k_tol));
}

using RouteShape = std::tuple<uint32_t, uint32_t, uint32_t>;  // (experts, k, tokens)

class MoeRouteShapes : public VkTest, public ::testing::WithParamInterface<RouteShape> {};
using MoeRoute = VkTest;

TEST_P(MoeRouteShapes, MatchesCpuReference) {
    const auto [e, k, tokens] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    expect_matches_reference(ctx(), random_normal(rng, size_t{e} * tokens, 2.0f), e, k);
}

TEST_P(MoeRouteShapes, TiedLogitsGoToTheLowerIndex) {
    const auto [e, k, tokens] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    std::vector<float> x(size_t{e} * tokens);
    std::uniform_int_distribution<int> d(0, 3);  // four distinct values: ties everywhere
    for (float& v : x) v = static_cast<float>(d(rng));
    expect_matches_reference(ctx(), x, e, k);
}

INSTANTIATE_TEST_SUITE_P(Ragged, MoeRouteShapes,
                         ::testing::Values(RouteShape{128, 8, 5},  // Gemma 4 26B-A4B
                                           RouteShape{1, 1, 2}, RouteShape{7, 7, 3},
                                           RouteShape{7, 2, 1}, RouteShape{129, 8, 2},
                                           RouteShape{257, 64, 3}));

TEST_F(MoeRoute, AllEqualLogitsPickTheFirstKWithEqualWeights) {
    const uint32_t e = 128, k = 8;
    const Routed got = gpu_route(ctx(), std::vector<float>(e * 2, 0.25f), e, k);
    EXPECT_EQ(got.ids, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_TRUE(all_close(got.weights, std::vector<double>(2 * k, 1.0 / k), k_tol));
}

TEST_F(MoeRoute, PerExpertScaleMultipliesTheWeights) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t e = 128, k = 8;
    const auto scale = random_uniform(rng, e, 0.5f, 2.0f);
    expect_matches_reference(ctx(), random_normal(rng, size_t{e} * 3, 2.0f), e, k, &scale);
}

TEST_F(MoeRoute, NaNAndInfiniteLogits) {
    const uint32_t e = 6, k = 3;
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> x = {nan,  1.0f, -inf, 2.0f, nan,  0.5f,   // NaN counts as -inf
                                  -inf, -inf, -inf, -inf, -inf, -inf,   // all -inf: weights 0
                                  nan,  3.0f, -inf, -inf, -inf, -inf};  // one finite logit
    expect_matches_reference(ctx(), x, e, k);
    const Routed got = gpu_route(ctx(), x, e, k);
    EXPECT_EQ(got.ids, (std::vector<uint32_t>{3, 1, 5, 0, 1, 2, 1, 0, 2}));
    EXPECT_EQ(got.weights[3] + got.weights[4] + got.weights[5], 0.0f);
    EXPECT_EQ(got.weights[6], 1.0f);
}

TEST_F(MoeRoute, RejectsBadShapes) {
    const vk::TensorSpans logits = alloc_rows(ctx(), 16, 2);
    const vk::TensorSpans k4 = alloc_rows(ctx(), 4, 2);
    const vk::TensorSpans k4x3 = alloc_rows(ctx(), 4, 3);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_moe_route(ctx(), cs, logits, k4, k4, {15, 4, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_moe_route(ctx(), cs, logits, k4, k4, {16, 5, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_moe_route(ctx(), cs, logits, k4, k4, {16, 0, {}}),
                 std::invalid_argument);
    EXPECT_THROW(ops::record_moe_route(ctx(), cs, logits, k4x3, k4, {16, 4, {}}),
                 std::invalid_argument);
    cs.submit_and_wait();
}

using MoeRouteSplit = SplitTensorTest;

TEST_F(MoeRouteSplit, LogitsSplitAcrossBindingsMatchCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t e = 128, k = 8, tokens = 70;  // 32 tokens of logits per 16 KiB part
    expect_matches_reference(small(), random_normal(rng, size_t{e} * tokens, 2.0f), e, k);
}

}  // namespace
}  // namespace vkllm::test
