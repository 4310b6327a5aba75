// add / mul with broadcast and scale (runtime/ops/binary.h) against fp64 sums and products.
// Tolerance: rtol 6e-8 (2^-24), atol 0: Vulkan rounds fp32 add and mul correctly, so the result
// is the fp64 value rounded once (N(0, 1) data: no denormals).

#include <gtest/gtest.h>

#include <tuple>

#include "runtime/ops/binary.h"
#include "runtime/ops/row_parts.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{0, 6e-8};

// out[r][c] = a[r][c] op b[r % b_rows][c % b_n], in fp64.
std::vector<double> broadcast_ref(ops::BinaryOp op, const std::vector<float>& a, uint32_t n,
                                  const std::vector<float>& b, uint32_t b_n, uint32_t b_rows) {
    std::vector<double> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const size_t r = i / n, c = i % n;
        const double bv = b[(r % b_rows) * b_n + c % b_n];
        out[i] = op == ops::BinaryOp::Add ? double{a[i]} + bv : double{a[i]} * bv;
    }
    return out;
}

// (op, n, rows, b_n, b_rows)
using BinaryCase = std::tuple<ops::BinaryOp, uint32_t, uint32_t, uint32_t, uint32_t>;

class BinaryShapes : public VkTest, public ::testing::WithParamInterface<BinaryCase> {};
using Binary = VkTest;

TEST_P(BinaryShapes, BroadcastMatchesCpuReference) {
    const auto [op, n, rows, b_n, b_rows] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const auto a = random_normal(rng, size_t{n} * rows);
    const auto b = random_normal(rng, size_t{b_n} * b_rows);
    const vk::TensorSpans da = upload_rows(ctx(), a, n);
    const vk::TensorSpans db = upload_rows(ctx(), b, b_n);
    const vk::TensorSpans dout = alloc_rows(ctx(), n, rows);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_binary(ctx(), cs, op, da, db, dout); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dout),
                          broadcast_ref(op, a, n, b, b_n, b_rows), k_tol));
}

constexpr auto Add = ops::BinaryOp::Add;
constexpr auto Mul = ops::BinaryOp::Mul;
INSTANTIATE_TEST_SUITE_P(
    Ragged, BinaryShapes,
    ::testing::Values(BinaryCase{Add, 1, 1, 1, 1}, BinaryCase{Add, 7, 3, 7, 3},          // full
                      BinaryCase{Add, 255, 4, 255, 1}, BinaryCase{Mul, 257, 3, 257, 1},  // row
                      BinaryCase{Mul, 2817, 2, 1, 1},                                    // scalar
                      BinaryCase{Mul, 12, 6, 4, 2},  // repeat in both dimensions
                      BinaryCase{Add, 2817, 5, 2817, 5}));

TEST_F(Binary, ScaleMultipliesByAConstantInPlace) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 257, rows = 3;
    const auto a = random_normal(rng, size_t{n} * rows);
    const vk::TensorSpans da = upload_rows(ctx(), a, n);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_scale(ctx(), cs, da, da, 0.37f); });
    std::vector<double> want(a.size());
    for (size_t i = 0; i < a.size(); ++i) want[i] = double{a[i]} * double{0.37f};
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), da), want, k_tol));
}

TEST_F(Binary, PlainSpansViewedAsRows) {
    // Callers holding a single BufferSpan wrap it with ops::rows_of.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 33, rows = 3;
    const auto a = random_normal(rng, size_t{n} * rows);
    const auto b = random_normal(rng, n);
    const vk::BufferSpan sa = upload_span(ctx(), a);
    const vk::BufferSpan sb = upload_span(ctx(), b);
    const vk::BufferSpan so =
        ctx().device_arena().allocate(a.size() * 4 + 64);  // larger than needed
    const vk::TensorSpans out = ops::rows_of(so, n * 4, rows);
    run(ctx(), [&](vk::CommandStream& cs) {
        ops::record_add(ctx(), cs, ops::rows_of(sa, n * 4, rows), ops::rows_of(sb, n * 4, 1), out);
    });
    EXPECT_TRUE(
        all_close(download_rows<float>(ctx(), out), broadcast_ref(Add, a, n, b, n, 1), k_tol));
    EXPECT_THROW(ops::rows_of(sa, n * 4, rows + 1), std::invalid_argument);
}

TEST_F(Binary, RejectsShapesThatDoNotBroadcast) {
    const vk::TensorSpans a = alloc_rows(ctx(), 12, 6);
    const vk::TensorSpans b5 = alloc_rows(ctx(), 5, 1);
    const vk::TensorSpans b4 = alloc_rows(ctx(), 12, 4);
    const vk::TensorSpans out = alloc_rows(ctx(), 12, 5);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_add(ctx(), cs, a, b5, a), std::invalid_argument);
    EXPECT_THROW(ops::record_mul(ctx(), cs, a, b4, a), std::invalid_argument);
    EXPECT_THROW(ops::record_add(ctx(), cs, a, a, out), std::invalid_argument);
    EXPECT_THROW(ops::record_scale(ctx(), cs, a, out, 2.0f), std::invalid_argument);
    cs.submit_and_wait();
}

using BinarySplit = SplitTensorTest;

TEST_F(BinarySplit, SplitOperandsAndARowBroadcastMatchCpuReference) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 1000, rows = 19;  // 4 rows per 16 KiB part
    const auto a = random_normal(rng, size_t{n} * rows);
    const auto b = random_normal(rng, a.size());
    const auto w = random_normal(rng, n);
    const vk::TensorSpans da = upload_rows(small(), a, n);
    const vk::TensorSpans db = upload_rows(small(), b, n);
    const vk::TensorSpans dw = upload_rows(small(), w, n);
    const vk::TensorSpans sum = alloc_rows(small(), n, rows);
    const vk::TensorSpans prod = alloc_rows(small(), n, rows);
    run(small(), [&](vk::CommandStream& cs) {
        ops::record_add(small(), cs, da, db, sum);
        ops::record_mul(small(), cs, da, dw, prod);
    });
    EXPECT_TRUE(
        all_close(download_rows<float>(small(), sum), broadcast_ref(Add, a, n, b, n, rows), k_tol));
    EXPECT_TRUE(
        all_close(download_rows<float>(small(), prod), broadcast_ref(Mul, a, n, w, n, 1), k_tol));
}

}  // namespace
}  // namespace vkllm::test
