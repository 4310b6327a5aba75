// Gated GELU (runtime/ops/glu.h) against the fp64 reference (reference/activation.h).
// Tolerance: rtol 1e-5, atol 1e-6. The kernel's exp (Vulkan bound 3 + 2|x| ulp; |2z| < ~40 where
// it matters), one division and two products give a relative error of a few 1e-6 at worst; the
// atol covers outputs that underflow towards 0 for very negative gates.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "reference/activation.h"
#include "reference/q8_1.h"
#include "runtime/ops/glu.h"
#include "runtime/ops/quantize_q8.h"
#include "tests/ops/elementwise_fixture.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"

namespace vkllm::test {
namespace {

constexpr Tolerance k_tol{1e-6, 1e-5};

using GluShape = std::tuple<uint32_t, uint32_t>;  // (n, rows)

class GeluGluShapes : public VkTest, public ::testing::WithParamInterface<GluShape> {};
using GeluGlu = VkTest;

std::vector<float> gate_values(std::mt19937_64& rng, size_t n) {
    auto g = random_normal(rng, n, 3.0f);
    // Edges: zero, large of both signs (tanh saturates; no NaN), huge (x^3 overflows to inf).
    const float edges[] = {0.0f, -0.0f, 10.0f, -10.0f, 50.0f, -50.0f, 1e20f, -1e20f};
    for (size_t i = 0; i < std::size(edges) && i < n; ++i) g[i * 5 % n] = edges[i];
    return g;
}

TEST_P(GeluGluShapes, SeparateInputsMatchCpuReference) {
    const auto [n, rows] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const auto g = gate_values(rng, size_t{n} * rows);
    const auto u = random_normal(rng, g.size());
    const vk::TensorSpans dg = upload_rows(ctx(), g, n);
    const vk::TensorSpans du = upload_rows(ctx(), u, n);
    const vk::TensorSpans dout = alloc_rows(ctx(), n, rows);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_gelu_glu(ctx(), cs, dg, du, dout); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dout), ref::gelu_glu(g, u), k_tol));
}

TEST_P(GeluGluShapes, FusedGateUpLayoutMatchesCpuReference) {
    // Rows of 3 groups of [n gate | n up] (e.g. 3 selected experts of one token).
    const auto [n, rows] = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t groups = 3;
    // Edge values only in the gate halves: an edge in an up half (1e20) would scale the gate's
    // far-negative tail, whose relative error is outside the stated tolerance, into the result.
    const size_t n_groups = size_t{groups} * rows;
    const auto gates = gate_values(rng, n * n_groups);
    const auto ups = random_normal(rng, n * n_groups);
    std::vector<float> gu;
    for (size_t g = 0; g < n_groups; ++g) {
        gu.insert(gu.end(), gates.begin() + static_cast<long>(g * n),
                  gates.begin() + static_cast<long>((g + 1) * n));
        gu.insert(gu.end(), ups.begin() + static_cast<long>(g * n),
                  ups.begin() + static_cast<long>((g + 1) * n));
    }
    const vk::TensorSpans dgu = upload_rows(ctx(), gu, 2 * n * groups);
    const vk::TensorSpans dout = alloc_rows(ctx(), n * groups, rows);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_gelu_glu_fused(ctx(), cs, dgu, dout, n); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dout), ref::gelu_glu_fused(gu, n), k_tol));
}

INSTANTIATE_TEST_SUITE_P(Ragged, GeluGluShapes,
                         ::testing::Values(GluShape{1, 1}, GluShape{7, 3}, GluShape{255, 2},
                                           GluShape{257, 1}, GluShape{2817, 2}, GluShape{704, 5}));

TEST_F(GeluGlu, GeluHasTheTanhFormValues) {
    // Spot values of gelu_pytorch_tanh, independent of the reference implementation.
    const std::vector<float> g = {0.0f, 1.0f, -1.0f, 3.0f, -3.0f};
    const std::vector<float> u(g.size(), 1.0f);
    const std::vector<double> want = {0.0, 0.8411919906082768, -0.15880800939172324,
                                      2.996362607918227, -0.0036373920817729943};
    const vk::TensorSpans dg = upload_rows(ctx(), g, g.size());
    const vk::TensorSpans du = upload_rows(ctx(), u, u.size());
    const vk::TensorSpans dout = alloc_rows(ctx(), g.size(), 1);
    run(ctx(), [&](vk::CommandStream& cs) { ops::record_gelu_glu(ctx(), cs, dg, du, dout); });
    EXPECT_TRUE(all_close(download_rows<float>(ctx(), dout), want, {1e-6, 1e-5}));
}

TEST_F(GeluGlu, RejectsMismatchedShapes) {
    const vk::TensorSpans a = alloc_rows(ctx(), 10, 2);
    const vk::TensorSpans b = alloc_rows(ctx(), 10, 3);
    const vk::TensorSpans c = alloc_rows(ctx(), 20, 2);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_gelu_glu(ctx(), cs, a, b, a), std::invalid_argument);
    EXPECT_THROW(ops::record_gelu_glu_fused(ctx(), cs, a, a, 5), std::invalid_argument);
    EXPECT_THROW(ops::record_gelu_glu_fused(ctx(), cs, c, a, 3), std::invalid_argument);
    cs.submit_and_wait();
}

// q8_out: the GLU's own q8_1 output (one vector per out row) is byte-identical to quantizing
// its fp32 output with record_quantize_q8_1, in both layouts; refused for rows that are not a
// multiple of 32 and for a buffer too small.
TEST_F(GeluGlu, Q8OutEqualsQuantizingTheOutput) {
    VKLLM_SEEDED_RNG(rng);
    for (const bool fused : {false, true}) {
        SCOPED_TRACE(fused ? "fused" : "separate");
        const uint32_t n = 704, rows = 5, out_row = fused ? 3 * n : n;
        const auto gu = gate_values(rng, size_t{2} * out_row * rows);
        const vk::TensorSpans din = upload_rows(ctx(), gu, fused ? 2 * out_row : out_row);
        const vk::TensorSpans dup =
            upload_rows(ctx(), random_normal(rng, size_t{out_row} * rows), out_row);
        const vk::TensorSpans dout = alloc_rows(ctx(), out_row, rows);
        const uint64_t bytes = ops::q8_1_bytes(out_row, rows);
        const vk::BufferSpan own = ctx().device_arena().allocate(bytes);
        const vk::BufferSpan separate = ctx().device_arena().allocate(bytes);
        run(ctx(), [&](vk::CommandStream& cs) {
            if (fused) {
                ops::record_gelu_glu_fused(ctx(), cs, din, dout, n, own);
            } else {
                const vk::TensorSpans gate = upload_rows(
                    ctx(),
                    std::vector<float>(gu.begin(), gu.begin() + static_cast<long>(out_row) * rows),
                    out_row);
                ops::record_gelu_glu(ctx(), cs, gate, dup, dout, own);
            }
            ops::record_quantize_q8_1(ctx(), cs, {dout.parts[0], out_row, out_row, rows, separate});
        });
        EXPECT_TRUE(same_bytes(ctx(), own, separate));
    }
    const vk::TensorSpans odd = alloc_rows(ctx(), 40, 2);
    const vk::TensorSpans even = alloc_rows(ctx(), 64, 2);
    const vk::BufferSpan q8 = ctx().device_arena().allocate(ops::q8_1_bytes(64, 2));
    vk::CommandStream cs(ctx().device());
    cs.begin();
    EXPECT_THROW(ops::record_gelu_glu(ctx(), cs, odd, odd, odd, q8), std::invalid_argument);
    EXPECT_THROW(ops::record_gelu_glu(ctx(), cs, even, even, even, q8.sub(0, 32)),
                 std::invalid_argument);
    cs.submit_and_wait();
}

using GeluGluSplit = SplitTensorTest;

TEST_F(GeluGluSplit, TensorsSplitDifferentlyAcrossBindingsMatchCpuReference) {
    // gate_up rows are twice out's, so the two tensors split at different rows.
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 700, rows = 23;
    const auto gu = gate_values(rng, size_t{2} * n * rows);
    const vk::TensorSpans dgu = upload_rows(small(), gu, 2 * n);
    const vk::TensorSpans dout = alloc_rows(small(), n, rows);
    ASSERT_NE(dgu.rows_per_part, dout.rows_per_part);
    run(small(),
        [&](vk::CommandStream& cs) { ops::record_gelu_glu_fused(small(), cs, dgu, dout, n); });
    EXPECT_TRUE(all_close(download_rows<float>(small(), dout), ref::gelu_glu_fused(gu, n), k_tol));
}

// q8_out with tensors split across bindings: each segment writes its rows' vectors at their
// place in the whole tensor's q8_1 form (checked against the CPU quantizer of the fp32 output:
// codes within one, d within 1e-6).
TEST_F(GeluGluSplit, Q8OutCoversEveryPart) {
    VKLLM_SEEDED_RNG(rng);
    const uint32_t n = 704, rows = 12;  // 3 parts of out; the q8_1 form fits one binding
    const auto gu = gate_values(rng, size_t{2} * n * rows);
    const vk::TensorSpans dgu = upload_rows(small(), gu, 2 * n);
    const vk::TensorSpans dout = alloc_rows(small(), n, rows);
    ASSERT_GT(dout.parts.size(), 1u);
    const uint64_t bytes = ops::q8_1_bytes(n, rows);
    const vk::BufferSpan q8 = small().device_arena().allocate(bytes);
    run(small(),
        [&](vk::CommandStream& cs) { ops::record_gelu_glu_fused(small(), cs, dgu, dout, n, q8); });
    std::vector<std::byte> raw(bytes);
    small().transfer().download(q8, raw);
    const reference::Q8_1Columns got = reference::read_q8_1(raw, n, rows);
    const reference::Q8_1Columns want =
        reference::quantize_q8_1(download_rows<float>(small(), dout), n, rows, n);
    for (size_t i = 0; i < want.codes.size(); ++i) {
        ASSERT_LE(std::abs(got.codes[i] - want.codes[i]), 1) << "code " << i;
    }
    for (size_t b = 0; b < want.d.size(); ++b) {
        ASSERT_NEAR(got.d[b], want.d[b], 1e-6f * want.d[b]) << "block " << b;
    }
}

}  // namespace
}  // namespace vkllm::test
