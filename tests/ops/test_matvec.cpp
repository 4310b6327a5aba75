// Decode mat-vec and expert mat-vec against the fp64 CPU reference: every weight type, 1/3/8
// columns, ragged shapes, tensors split over several bindings, and the grid-y fold; the same for
// the integer dot-product path (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K on q8_1 activations).
//
// Tolerance: |got - want| <= 1e-5 * sum_k |w_k x_k| + 1e-6 per output. The kernel decodes
// weights in fp32 (a fused multiply-add may round once where the reference rounds twice) and
// accumulates K products in fp32 in a different order than the reference; both errors are a few
// ulps of sum |w x|, and 1e-5 (~170 ulps) leaves room for K up to a few thousand.
// The integer path is held to the same bound against the reference on x as it reads it (d * code
// from the device's q8_1 buffer, whose codes are checked against the CPU quantizer to +-1): its
// products and block sums are exact integers, so only the float scaling rounds.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "quant/random_blocks.h"
#include "reference/matvec.h"
#include "reference/q8_1.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/quantize_q8.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"
#include "tests/support/weight_case.h"

namespace vkllm::test {
namespace {

struct MatVecCase {
    GgmlType type;
    uint32_t K, N, ncols;
    uint32_t max_groups_x = 0;
    bool int_dot = false;
    uint32_t split_k = 0;
};

const GgmlType k_int_dot_types[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K,
                                    GgmlType::Q6_K};

void run_matvec(vk::Context& ctx, const MatVecCase& mc, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(traits_of(mc.type).name) + " K=" + std::to_string(mc.K) +
                 " N=" + std::to_string(mc.N) + " ncols=" + std::to_string(mc.ncols) +
                 (mc.int_dot ? " integer path" : "") +
                 (mc.split_k > 1 ? " split-K " + std::to_string(mc.split_k) : ""));
    // Odd strides (ncols 3) take the scalar x path; multiples of 4 take the vec4 path.
    const uint32_t x_stride = mc.K + (mc.ncols == 3 ? 1 : 4);
    const uint32_t y_stride = mc.N + 3;
    const std::vector<std::byte> w = quant::random_quantized(mc.type, size_t{mc.K} * mc.N, rng);
    const std::vector<float> x = random_normal(rng, size_t{x_stride} * mc.ncols);
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, mc.type, mc.K, mc.N);
    const std::vector<float> sentinel(size_t{y_stride} * mc.ncols, -12345.0f);
    ops::MatVecArgs a;
    a.weight = {&wt, mc.type, mc.K, mc.N};
    a.x = b.upload(x);
    a.x_stride = x_stride;
    a.y = b.upload(sentinel);
    a.y_stride = y_stride;
    a.ncols = mc.ncols;
    a.max_groups_x = mc.max_groups_x;
    a.split_k = mc.split_k;
    std::vector<float> x_seen = x;
    if (mc.int_dot) {
        DeviceQ8 q = quantize_on_device(ctx, b, a.x, x, mc.K, mc.ncols, x_stride);
        a.xq = q.xq;
        a.path = ops::MatVecPath::IntDot;
        x_seen = std::move(q.x_seen);
    }
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matvec(ctx, cs, a);
    cs.submit_and_wait();
    const std::vector<float> got = b.download(a.y, sentinel.size());
    const auto want = reference::matvec(mc.type, w, mc.K, mc.N, x_seen, mc.ncols, x_stride);
    EXPECT_TRUE(dot_close(got, y_stride, want, mc.N));
    for (uint32_t c = 0; c < mc.ncols; ++c) {
        for (uint32_t r = mc.N; r < y_stride; ++r) {
            ASSERT_EQ(got[size_t{c} * y_stride + r], -12345.0f) << "wrote past row N, column " << c;
        }
    }
}

// K not a multiple of 256 where the block size allows it: 32 * odd, 256 * odd, odd.
std::pair<uint32_t, uint32_t> small_and_big_k(GgmlType type) {
    switch (traits_of(type).block_elems) {
        case 1:
            return {97, 1031};
        case 32:
            return {32 * 7, 32 * 33};
        default:
            return {256, 256 * 5};
    }
}

// Six ragged shapes of one type and column count, on either path.
void run_ragged_shapes(vk::Context& ctx, GgmlType type, uint32_t ncols, bool int_dot,
                       std::mt19937_64& rng) {
    const auto [ks, kb] = small_and_big_k(type);
    const std::pair<uint32_t, uint32_t> shapes[] = {{ks, 1},  {kb, 1},   {ks, 63},
                                                    {kb, 65}, {ks, 257}, {kb, 131}};
    for (const auto& [K, N] : shapes) run_matvec(ctx, {type, K, N, ncols, 0, int_dot}, rng);
}

using TypeAndCols = std::tuple<GgmlType, uint32_t>;

std::string type_and_cols_name(const ::testing::TestParamInfo<TypeAndCols>& p) {
    return std::string(ops::weight_type_suffix(std::get<0>(p.param))) + "_cols" +
           std::to_string(std::get<1>(p.param));
}

class MatVec : public VkTest, public ::testing::WithParamInterface<TypeAndCols> {};

TEST_P(MatVec, MatchesReferenceOnRaggedShapes) {
    const auto [type, ncols] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    run_ragged_shapes(ctx(), type, ncols, false, rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatVec,
                         ::testing::Combine(::testing::ValuesIn(k_weight_types),
                                            ::testing::Values(1u, 3u, 8u)),
                         type_and_cols_name);

class MatVecInt : public VkTest, public ::testing::WithParamInterface<TypeAndCols> {};

TEST_P(MatVecInt, MatchesReferenceOnRaggedShapes) {
    const auto [type, ncols] = GetParam();
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    run_ragged_shapes(ctx(), type, ncols, true, rng);
}

INSTANTIATE_TEST_SUITE_P(IntDotTypes, MatVecInt,
                         ::testing::Combine(::testing::ValuesIn(k_int_dot_types),
                                            ::testing::Values(1u, 3u, 8u)),
                         type_and_cols_name);

// Split-K: 2, 4 (and, where a workgroup has that many subgroups, 8) subgroups share each row
// group, on ragged shapes, 1 and 2 rows per subgroup and up to 8 columns; the same bound (the
// parts are added in a fixed order, in fp32).
TEST_F(MatVecInt, SplitKMatchesReference) {
    const vk::DeviceInfo& info = ctx().device().info();
    if (!info.int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    const uint32_t subgroups =
        ops::matvec_layout(info).workgroup / std::max(1u, info.subgroup_size);
    for (uint32_t split = 2; split <= std::min(8u, subgroups); split *= 2) {
        for (const GgmlType type : k_int_dot_types) {
            const auto [ks, kb] = small_and_big_k(type);
            run_matvec(ctx(), {type, kb, 65, 1, 0, true, split}, rng);
            run_matvec(ctx(), {type, ks, 131, 3, 0, true, split}, rng);
            run_matvec(ctx(), {type, kb, 7, 8, 0, true, split}, rng);
        }
    }
    CaseBuffers b(ctx());
    const vk::TensorSpans wt = b.weight(std::vector<std::byte>(34 * 2 * 4), GgmlType::Q8_0, 64, 4);
    ops::MatVecArgs a;
    a.weight = {&wt, GgmlType::Q8_0, 64, 4};
    a.x = b.arena.allocate(64 * 4);
    a.y = b.arena.allocate(4 * 4);
    a.split_k = 2;
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // the fp32 path
    a.path = ops::MatVecPath::IntDot;
    a.xq = b.arena.allocate(ops::q8_1_bytes(64, 1));
    a.split_k = 3;
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // not a power of 2
    a.split_k = 2 * subgroups;
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // too many
}

// The integer path against the float path on the same weights: the difference is x's 8-bit
// rounding, at most d / 2 per element, so |y_int - y_float| <= sum_k |w_k| * d(k) / 2 plus both
// paths' float rounding (the dot_close bound of each).
TEST_F(MatVecInt, StaysWithinTheQuantizationBoundOfTheFloatPath) {
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    for (GgmlType type : k_int_dot_types) {
        SCOPED_TRACE(traits_of(type).name);
        const uint32_t K = 1280, N = 96;
        const std::vector<std::byte> w = quant::random_quantized(type, size_t{K} * N, rng);
        const std::vector<float> x = random_normal(rng, K);
        CaseBuffers b(ctx());
        const vk::TensorSpans wt = b.weight(w, type, K, N);
        ops::MatVecArgs a;
        a.weight = {&wt, type, K, N};
        a.x = b.upload(x);
        a.y = b.upload(std::vector<float>(N));
        const vk::BufferSpan y_int = b.upload(std::vector<float>(N));
        const DeviceQ8 q = quantize_on_device(ctx(), b, a.x, x, K, 1, K);
        vk::CommandStream cs(ctx().device());
        cs.begin();
        a.path = ops::MatVecPath::Float;
        ops::record_matvec(ctx(), cs, a);
        ops::MatVecArgs ai = a;
        ai.xq = q.xq;
        ai.path = ops::MatVecPath::IntDot;
        ai.y = y_int;
        ops::record_matvec(ctx(), cs, ai);
        cs.submit_and_wait();
        const std::vector<float> yf = b.download(a.y, N);
        const std::vector<float> yi = b.download(y_int, N);
        // sum_k |w_k| * d(k) / 2 per row, from the dequantized weights (x = 1 picks out |w|).
        const reference::Q8_1Columns cq = reference::quantize_q8_1(x, K, 1, K);
        std::vector<float> half_step(K);
        for (uint32_t k = 0; k < K; ++k) half_step[k] = cq.d[k / 32] / 2;
        const auto bound = reference::matvec(type, w, K, N, half_step, 1, K);
        const auto exact = reference::matvec(type, w, K, N, x, 1, K);
        for (uint32_t r = 0; r < N; ++r) {
            const double allowed = bound.abs_sum[r] + 2 * (1e-5 * exact.abs_sum[r] + 1e-6);
            EXPECT_LE(std::fabs(double{yi[r]} - double{yf[r]}), allowed) << "row " << r;
        }
    }
}

using MatVecGrid = VkTest;

TEST_F(MatVecGrid, RowCountsBeyondGridXFoldIntoGridY) {
    VKLLM_SEEDED_RNG(rng);
    // At most 3 workgroups in x: 257 rows need several grid rows, the last one partial.
    run_matvec(ctx(), {GgmlType::Q8_0, 96, 257, 1, 3}, rng);
    run_matvec(ctx(), {GgmlType::Q4_K, 256, 1001, 2, 2}, rng);
}

TEST_F(MatVecGrid, RejectsBadShapes) {
    CaseBuffers b(ctx());
    const vk::TensorSpans wt = b.arena.allocate_rows(row_bytes(GgmlType::Q4_0, 64), 4);
    ops::MatVecArgs a;
    a.weight = {&wt, GgmlType::Q4_0, 64, 4};
    a.x = b.arena.allocate(64 * 4 * 9);
    a.y = b.arena.allocate(64 * 4);
    a.ncols = 9;
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // ncols > 8
    a.ncols = 1;
    a.weight.K = 48;
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // K % 32 != 0
    a.weight.K = 64;
    a.weight.type = GgmlType::IQ4_NL;
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // type not built
    a.weight.type = GgmlType::Q4_0;
    a.x = a.x.sub(0, 100);
    EXPECT_THROW(ops::record_matvec(ctx(), cs, a), std::invalid_argument);  // x too small
    cs.submit_and_wait();
}

// Weights bigger than one (shrunk, 1 MiB) binding: one dispatch per part of whole rows.
TEST(MatVecSplit, WeightSpanningSeveralBindingsMatchesReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    const MatVecCase cases[] = {
        {GgmlType::Q4_K, 2048, 2000, 1},  // 2.3 MB: 3 parts
        {GgmlType::Q4_K, 2048, 2000, 3},
        {GgmlType::F16, 512, 2500, 1},    // 1024 rows per part: y slices are binding-aligned
        {GgmlType::Q6_K, 1280, 1200, 2},  // 2-byte aligned blocks across parts
        {GgmlType::Q4_K, 2048, 2000, 3, 0, true},
        {GgmlType::Q6_K, 1280, 1200, 2, 0, true},
        {GgmlType::Q8_0, 1024, 1100, 1, 0, true},
    };
    for (const MatVecCase& mc : cases) {
        ASSERT_GT(row_bytes(mc.type, mc.K) * mc.N, uint64_t{1} << 20);
        if (mc.int_dot && !env->context->device().info().int_dot) continue;
        run_matvec(*env->context, mc, rng);
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

// ---- expert mat-vec ----

struct IdCase {
    GgmlType type;
    uint32_t K, N, n_experts, n_used, n_tokens;
    bool x_per_slot;
    bool int_dot = false;
};

void run_matvec_id(vk::Context& ctx, const IdCase& ic, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(traits_of(ic.type).name) + " K=" + std::to_string(ic.K) +
                 " N=" + std::to_string(ic.N) + " E=" + std::to_string(ic.n_experts) +
                 " used=" + std::to_string(ic.n_used) + " tokens=" + std::to_string(ic.n_tokens) +
                 (ic.x_per_slot ? " x per slot" : " shared x") +
                 (ic.int_dot ? ", integer path" : ""));
    const uint32_t pairs = ic.n_used * ic.n_tokens;
    const uint32_t ids_stride = ic.n_used + 1;
    std::vector<uint32_t> ids(size_t{ids_stride} * ic.n_tokens, 0xFFFFFFFFu);
    std::uniform_int_distribution<uint32_t> pick(0, ic.n_experts - 1);
    for (uint32_t t = 0; t < ic.n_tokens; ++t) {
        for (uint32_t s = 0; s < ic.n_used; ++s) ids[t * ids_stride + s] = pick(rng);
    }
    ids[0] = ic.n_experts - 1;                      // the last expert
    if (ic.n_used > 1) ids[1] = ids[0];             // a repeated id within a token
    if (ic.n_tokens > 1) ids[ids_stride] = ids[0];  // and across tokens
    const uint32_t x_stride = ic.K + 4;
    const uint32_t y_stride = ic.N + 1;
    const uint32_t n_x = ic.x_per_slot ? pairs : ic.n_tokens;
    const std::vector<std::byte> w =
        quant::random_quantized(ic.type, size_t{ic.K} * ic.N * ic.n_experts, rng);
    const std::vector<float> x = random_normal(rng, size_t{x_stride} * n_x);
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, ic.type, ic.K, uint64_t{ic.N} * ic.n_experts);
    ops::MatVecIdArgs a;
    a.weight = {&wt, ic.type, ic.K, ic.N * ic.n_experts};
    a.n_rows = ic.N;
    a.n_experts = ic.n_experts;
    a.ids = b.upload(ids);
    a.ids_stride = ids_stride;
    a.n_used = ic.n_used;
    a.n_tokens = ic.n_tokens;
    a.x = b.upload(x);
    a.x_stride = x_stride;
    a.x_per_slot = ic.x_per_slot;
    a.y = b.upload(std::vector<float>(size_t{y_stride} * pairs, -12345.0f));
    a.y_stride = y_stride;
    std::vector<float> x_seen = x;
    if (ic.int_dot) {
        DeviceQ8 q = quantize_on_device(ctx, b, a.x, x, ic.K, n_x, x_stride);
        a.xq = q.xq;
        a.path = ops::MatVecPath::IntDot;
        x_seen = std::move(q.x_seen);
    }
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matvec_id(ctx, cs, a);
    cs.submit_and_wait();
    const std::vector<float> got = b.download(a.y, size_t{y_stride} * pairs);
    const auto want = reference::matvec_id(ic.type, w, ic.K, ic.N, ic.n_experts, ids, ids_stride,
                                           ic.n_used, ic.n_tokens, x_seen, x_stride, ic.x_per_slot);
    EXPECT_TRUE(dot_close(got, y_stride, want, ic.N));
    for (uint32_t p = 0; p < pairs; ++p) {
        ASSERT_EQ(got[size_t{p} * y_stride + ic.N], -12345.0f) << "wrote past row N, pair " << p;
    }
}

class MatVecId : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(MatVecId, RandomExpertIdsMatchReference) {
    const GgmlType type = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t K = small_and_big_k(type).first;
    run_matvec_id(ctx(), {type, K, 65, 6, 4, 1, false}, rng);
    run_matvec_id(ctx(), {type, K, 33, 5, 2, 3, true}, rng);
    run_matvec_id(ctx(), {type, K, 17, 8, 8, 8, false}, rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatVecId, ::testing::ValuesIn(k_weight_types),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

class MatVecIdInt : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(MatVecIdInt, RandomExpertIdsMatchReference) {
    const GgmlType type = GetParam();
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    const uint32_t K = small_and_big_k(type).first;
    run_matvec_id(ctx(), {type, K, 65, 6, 4, 1, false, true}, rng);
    run_matvec_id(ctx(), {type, K, 33, 5, 2, 3, true, true}, rng);
    run_matvec_id(ctx(), {type, K, 17, 8, 8, 8, false, true}, rng);
}

INSTANTIATE_TEST_SUITE_P(IntDotTypes, MatVecIdInt, ::testing::ValuesIn(k_int_dot_types),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

TEST(MatVecIdSplit, ExpertsStraddlingBindingsMatchReference) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    // 576-byte rows: 1820 rows per 1 MiB part, so expert 6 (rows 1800..2099) straddles parts.
    run_matvec_id(*env->context, {GgmlType::Q4_K, 1024, 300, 8, 4, 3, false}, rng);
    run_matvec_id(*env->context, {GgmlType::Q8_0, 1024, 300, 8, 2, 2, true}, rng);
    if (env->context->device().info().int_dot) {
        run_matvec_id(*env->context, {GgmlType::Q4_K, 1024, 300, 8, 4, 3, false, true}, rng);
        run_matvec_id(*env->context, {GgmlType::Q6_K, 1024, 300, 8, 2, 2, true, true}, rng);
    }
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

}  // namespace
}  // namespace vkllm::test
