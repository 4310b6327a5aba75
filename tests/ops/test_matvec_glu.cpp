// The gated mat-vec (ops::record_matvec_glu): gate and up rows of one fused weight, the GELU-GLU
// epilogue and the q8_1 form of the output in one dispatch, against the fp64 reference on x as
// the integer kernel reads it. Ragged K, F with and without a q8_1 output, 1-8 columns, 1 and 2
// rows per subgroup, every integer-path type; the expert form (record_matvec_id_glu) with random
// ids, shared and per-slot x; and both forms on the fp32 path for every weight type (against the
// reference on x itself, same bound).
//
// Tolerance: each dot product is held to the mat-vec bound e = 1e-5 * sum|w x| + 1e-6
// (test_matvec.cpp), which reaches the output through gelu_tanh (slope below 1.13) and the
// product: |got - want| <= 1.13 e_gate |up| + |gelu(gate)| e_up, plus 4e-6 |want| for the
// float evaluation of gelu_tanh and the product. The q8_1 output must be what the CPU quantizer
// makes of the kernel's own fp32 output: codes within one, d within 1e-6, block sums consistent.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
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

struct GluCase {
    GgmlType type;
    uint32_t K, F, ncols;
    bool q8_out;
    uint32_t rows_per_subgroup;
    bool int_dot = true;
};

// x as the chosen path reads it: the device's q8_1 form (integer) or x itself (fp32).
struct PathInput {
    std::optional<vk::BufferSpan> xq;
    std::vector<float> x_seen;
    ops::MatVecPath path;
};

PathInput path_input(vk::Context& ctx, CaseBuffers& b, const vk::BufferSpan& x_dev,
                     const std::vector<float>& x, uint32_t K, uint32_t n_x, bool int_dot) {
    if (!int_dot) return {std::nullopt, x, ops::MatVecPath::Float};
    DeviceQ8 q = quantize_on_device(ctx, b, x_dev, x, K, n_x, K);
    return {q.xq, std::move(q.x_seen), ops::MatVecPath::IntDot};
}

double gelu_tanh(double v) {
    const double z = std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v);
    return v / (1.0 + std::exp(-2.0 * z));
}

// The q8_1 output must be what the CPU quantizer makes of the kernel's own fp32 output (n
// vectors of F, packed).
void check_q8_out(vk::Context& ctx, const vk::BufferSpan& q8, const std::vector<float>& out,
                  uint32_t F, size_t n) {
    std::vector<std::byte> raw(ops::q8_1_bytes(F, n));
    ctx.transfer().download(q8, raw);
    const reference::Q8_1Columns got = reference::read_q8_1(raw, F, n);
    const reference::Q8_1Columns want = reference::quantize_q8_1(out, F, n, F);
    for (size_t i = 0; i < want.codes.size(); ++i) {
        ASSERT_LE(std::abs(got.codes[i] - want.codes[i]), 1) << "q8_1 code " << i;
    }
    for (size_t blk = 0; blk < want.d.size(); ++blk) {
        ASSERT_NEAR(got.d[blk], want.d[blk], 1e-6f * want.d[blk]) << "block " << blk;
        int lo = 0, hi = 0;
        for (size_t i = 0; i < 16; ++i) {
            lo += got.codes[blk * 32 + i];
            hi += got.codes[blk * 32 + 16 + i];
        }
        const double d = got.d[blk], tol = 1e-5 * d * 16 * 127;
        ASSERT_NEAR(got.sum_lo[blk], d * lo, tol) << "block " << blk;
        ASSERT_NEAR(got.sum_hi[blk], d * hi, tol) << "block " << blk;
    }
}

// got[v * stride + r] (v < vectors, r < F) against gelu(gate) * up from the reference dots,
// whose vector v holds 2F values: F gate, then F up. Rows F..stride-1 must be untouched.
void expect_glu_close(const std::vector<float>& got, size_t stride,
                      const reference::DotResult& dots, uint32_t F, size_t vectors) {
    size_t bad = 0;
    for (size_t v = 0; v < vectors; ++v) {
        for (uint32_t r = 0; r < F; ++r) {
            const size_t gi = v * 2 * F + r, ui = gi + F;
            const double g = dots.value[gi], u = dots.value[ui];
            const double want = gelu_tanh(g) * u;
            const double eg = 1e-5 * dots.abs_sum[gi] + 1e-6, eu = 1e-5 * dots.abs_sum[ui] + 1e-6;
            const double bound =
                1.13 * eg * std::fabs(u) + std::fabs(gelu_tanh(g)) * eu + 4e-6 * std::fabs(want);
            const double x = got[v * stride + r];
            if (!(std::fabs(x - want) <= bound) && bad++ < 5) {
                ADD_FAILURE() << "vector " << v << " row " << r << ": got " << x << ", want "
                              << want << " (bound " << bound << ")";
            }
        }
        for (size_t r = F; r < stride; ++r) {
            ASSERT_EQ(got[v * stride + r], -12345.0f) << "wrote past F, vector " << v;
        }
    }
    EXPECT_EQ(bad, 0u);
}

// The first F of every `stride` floats, packed.
std::vector<float> packed(const std::vector<float>& got, size_t stride, uint32_t F, size_t n) {
    std::vector<float> out(size_t{F} * n);
    for (size_t v = 0; v < n; ++v) {
        std::copy_n(got.begin() + static_cast<ptrdiff_t>(v * stride), F,
                    out.begin() + static_cast<ptrdiff_t>(v * F));
    }
    return out;
}

void run_glu(vk::Context& ctx, const GluCase& gc, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(traits_of(gc.type).name) + " K=" + std::to_string(gc.K) +
                 " F=" + std::to_string(gc.F) + " ncols=" + std::to_string(gc.ncols) +
                 (gc.q8_out ? " q8_out" : "") + " rows/subgroup " +
                 std::to_string(gc.rows_per_subgroup) + (gc.int_dot ? " integer" : " fp32"));
    const uint32_t rows = 2 * gc.F;
    const uint32_t out_stride = gc.F + 3;
    const std::vector<std::byte> w = quant::random_quantized(gc.type, size_t{gc.K} * rows, rng);
    const std::vector<float> x = random_normal(rng, size_t{gc.K} * gc.ncols);
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, gc.type, gc.K, rows);
    const vk::BufferSpan x_dev = b.upload(x);
    const PathInput q = path_input(ctx, b, x_dev, x, gc.K, gc.ncols, gc.int_dot);
    const std::vector<float> sentinel(size_t{out_stride} * gc.ncols, -12345.0f);
    ops::MatVecGluArgs a;
    a.weight = {&wt, gc.type, gc.K, rows};
    a.x = x_dev;
    a.x_stride = gc.K;
    a.xq = q.xq;
    a.path = q.path;
    a.out = b.upload(sentinel);
    a.out_stride = out_stride;
    a.ncols = gc.ncols;
    a.rows_per_subgroup = gc.rows_per_subgroup;
    if (gc.q8_out) a.q8_out = b.arena.allocate(ops::q8_1_bytes(gc.F, gc.ncols));
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matvec_glu(ctx, cs, a);
    cs.submit_and_wait();
    const std::vector<float> got = b.download(a.out, sentinel.size());

    const auto dots = reference::matvec(gc.type, w, gc.K, rows, q.x_seen, gc.ncols, gc.K);
    expect_glu_close(got, out_stride, dots, gc.F, gc.ncols);
    // The codes describe the fp32 output as the down projection's q8_1 input would.
    if (gc.q8_out)
        check_q8_out(ctx, *a.q8_out, packed(got, out_stride, gc.F, gc.ncols), gc.F, gc.ncols);
}

// Experts: gate_up_exps of E experts of 2F rows, k slots per token, shared or per-slot x.
struct IdGluCase {
    GgmlType type;
    uint32_t K, F, n_experts, n_used, n_tokens;
    bool x_per_slot, q8_out;
    bool int_dot = true;
};

void run_id_glu(vk::Context& ctx, const IdGluCase& ic, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(traits_of(ic.type).name) + " K=" + std::to_string(ic.K) +
                 " F=" + std::to_string(ic.F) + " E=" + std::to_string(ic.n_experts) +
                 " k=" + std::to_string(ic.n_used) + " T=" + std::to_string(ic.n_tokens) +
                 (ic.x_per_slot ? " x per slot" : "") + (ic.q8_out ? " q8_out" : "") +
                 (ic.int_dot ? " integer" : " fp32"));
    const uint32_t rows = 2 * ic.F, pairs = ic.n_used * ic.n_tokens;
    const uint32_t n_x = ic.x_per_slot ? pairs : ic.n_tokens, y_stride = ic.F + 1;
    const std::vector<std::byte> w =
        quant::random_quantized(ic.type, size_t{ic.K} * rows * ic.n_experts, rng);
    const std::vector<float> x = random_normal(rng, size_t{ic.K} * n_x);
    std::vector<uint32_t> ids(pairs);
    std::uniform_int_distribution<uint32_t> pick(0, ic.n_experts - 1);
    for (uint32_t& id : ids) id = pick(rng);
    ids[0] = ic.n_experts - 1;  // the last expert's rows, at the end of the weight
    CaseBuffers b(ctx);
    const vk::TensorSpans wt = b.weight(w, ic.type, ic.K, uint64_t{rows} * ic.n_experts);
    const vk::BufferSpan x_dev = b.upload(x);
    const PathInput q = path_input(ctx, b, x_dev, x, ic.K, n_x, ic.int_dot);
    const std::vector<float> sentinel(size_t{y_stride} * pairs, -12345.0f);
    ops::MatVecIdArgs a;
    a.weight = {&wt, ic.type, ic.K, rows * ic.n_experts};
    a.n_rows = rows;
    a.n_experts = ic.n_experts;
    a.ids = b.upload(ids);
    a.ids_stride = ic.n_used;
    a.n_used = ic.n_used;
    a.n_tokens = ic.n_tokens;
    a.x = x_dev;
    a.x_stride = ic.K;
    a.x_per_slot = ic.x_per_slot;
    a.xq = q.xq;
    a.path = q.path;
    a.y = b.upload(sentinel);
    a.y_stride = y_stride;
    std::optional<vk::BufferSpan> q8;
    if (ic.q8_out) q8 = b.arena.allocate(ops::q8_1_bytes(ic.F, pairs));
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_matvec_id_glu(ctx, cs, a, q8);
    cs.submit_and_wait();
    const std::vector<float> got = b.download(a.y, sentinel.size());
    const auto dots = reference::matvec_id(ic.type, w, ic.K, rows, ic.n_experts, ids, ic.n_used,
                                           ic.n_used, ic.n_tokens, q.x_seen, ic.K, ic.x_per_slot);
    expect_glu_close(got, y_stride, dots, ic.F, pairs);
    if (q8) check_q8_out(ctx, *q8, packed(got, y_stride, ic.F, pairs), ic.F, pairs);
}

const GgmlType k_glu_types[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K,
                                GgmlType::Q6_K};

class MatVecGlu : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(MatVecGlu, MatchesReferenceWithAndWithoutQ8Output) {
    const GgmlType type = GetParam();
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    const uint32_t qk = traits_of(type).block_elems;
    const uint32_t k_small = qk == 32 ? 32 * 7 : 256, k_big = qk == 32 ? 32 * 33 : 256 * 5;
    run_glu(ctx(), {type, k_small, 96, 1, true, 2}, rng);
    run_glu(ctx(), {type, k_big, 160, 3, true, 1}, rng);
    run_glu(ctx(), {type, k_small, 64, 8, true, 2}, rng);
    run_glu(ctx(), {type, k_big, 50, 2, false, 2}, rng);  // F not a multiple of 32
}

TEST_P(MatVecGlu, ExpertsMatchReferenceWithAndWithoutQ8Output) {
    const GgmlType type = GetParam();
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    VKLLM_SEEDED_RNG(rng);
    const uint32_t K = traits_of(type).block_elems == 32 ? 32 * 7 : 256;
    run_id_glu(ctx(), {type, K, 64, 6, 2, 3, false, true}, rng);
    run_id_glu(ctx(), {type, K, 96, 5, 4, 2, true, true}, rng);
    run_id_glu(ctx(), {type, K, 40, 3, 1, 1, false, false}, rng);  // F not a multiple of 32
}

INSTANTIATE_TEST_SUITE_P(IntDotTypes, MatVecGlu, ::testing::ValuesIn(k_glu_types),
                         [](const auto& p) { return std::string(traits_of(p.param).name); });

// The fp32 kernels, every weight type.
class MatVecGluFloat : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(MatVecGluFloat, DenseAndExpertsMatchReference) {
    const GgmlType type = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t qk = traits_of(type).block_elems;
    const uint32_t k_small = qk == 1 ? 97 : qk == 32 ? 32 * 7 : 256;
    const uint32_t k_big = qk == 1 ? 1031 : qk == 32 ? 32 * 33 : 256 * 5;
    run_glu(ctx(), {type, k_small, 96, 1, false, 2, false}, rng);
    run_glu(ctx(), {type, k_big, 50, 3, false, 1, false}, rng);
    run_glu(ctx(), {type, k_small, 33, 8, false, 2, false}, rng);
    run_id_glu(ctx(), {type, k_small, 40, 5, 2, 3, false, false, false}, rng);
    run_id_glu(ctx(), {type, k_small, 24, 3, 4, 2, true, false, false}, rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatVecGluFloat, ::testing::ValuesIn(k_weight_types),
                         [](const auto& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

TEST_F(MatVecGlu, RejectsWhatItCannotFuse) {
    if (!ctx().device().info().int_dot) GTEST_SKIP() << "no shaderIntegerDotProduct";
    CaseBuffers b(ctx());
    std::mt19937_64 rng(3);
    const std::vector<std::byte> w = quant::random_quantized(GgmlType::Q8_0, 64 * 6, rng);
    const vk::TensorSpans wt = b.weight(w, GgmlType::Q8_0, 64, 6);
    ops::MatVecGluArgs a;
    a.weight = {&wt, GgmlType::Q8_0, 64, 6};
    a.xq = b.arena.allocate(ops::q8_1_bytes(64, 1));
    a.x = b.arena.allocate(64 * 4);
    a.path = ops::MatVecPath::IntDot;
    a.out = b.arena.allocate(64 * 4);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    a.q8_out = b.arena.allocate(ops::q8_1_bytes(32, 1));
    EXPECT_THROW(ops::record_matvec_glu(ctx(), cs, a), std::invalid_argument);  // F = 3
    a.q8_out.reset();
    a.ncols = 9;
    EXPECT_THROW(ops::record_matvec_glu(ctx(), cs, a), std::invalid_argument);
    a.ncols = 1;
    const std::vector<std::byte> wf = quant::random_quantized(GgmlType::F16, 64 * 6, rng);
    const vk::TensorSpans wft = b.weight(wf, GgmlType::F16, 64, 6);
    a.weight = {&wft, GgmlType::F16, 64, 6};
    EXPECT_THROW(ops::record_matvec_glu(ctx(), cs, a), std::invalid_argument);  // no int kernel
    a.weight = {&wt, GgmlType::Q8_0, 64, 6};
    a.path = ops::MatVecPath::Float;
    a.q8_out = b.arena.allocate(ops::q8_1_bytes(32, 1));
    EXPECT_THROW(ops::record_matvec_glu(ctx(), cs, a), std::invalid_argument);  // q8 needs int
    a.q8_out.reset();
    ops::record_matvec_glu(ctx(), cs, a);  // and the valid calls record
    a.path = ops::MatVecPath::IntDot;
    ops::record_matvec_glu(ctx(), cs, a);
    cs.submit_and_wait();
}

}  // namespace
}  // namespace vkllm::test
