// Embedding row fetch against the CPU dequantiser: every weight type, ids at 0 and V-1 and
// repeated, a scale, and a table split over several bindings.
//
// Tolerance: atol 1e-5 * scale, rtol 1e-6. The kernel decodes each element with the same fp32
// formula as the reference, but the compiler may fuse `dl * q - ml` into one FMA (one rounding
// instead of two) and the scale adds one more rounding; decoded values are below 64 in size.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "quant/random_blocks.h"
#include "reference/matvec.h"
#include "runtime/ops/get_rows.h"
#include "runtime/ops/weight_upload.h"
#include "tests/support/compare.h"
#include "tests/support/random.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

void run_get_rows(vk::Context& ctx, GgmlType type, uint32_t K, uint32_t V,
                  std::vector<uint32_t> ids, float scale, std::mt19937_64& rng) {
    SCOPED_TRACE(std::string(traits_of(type).name) + " K=" + std::to_string(K) +
                 " V=" + std::to_string(V) + " tokens=" + std::to_string(ids.size()));
    const std::vector<std::byte> table = quant::random_quantized(type, size_t{K} * V, rng);
    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, 8 << 20);
    vk::TensorSpans t = arena.allocate_rows(row_bytes(type, K), V);
    ops::upload_weight(ctx.transfer(), t, type, table);
    vk::BufferSpan ids_buf = arena.allocate(ids.size() * 4);
    ctx.transfer().upload(ids_buf, std::as_bytes(std::span(ids)));
    const uint32_t out_stride = K + 3;
    const auto n = static_cast<uint32_t>(ids.size());
    vk::BufferSpan out = arena.allocate(uint64_t{out_stride} * n * 4);
    const std::vector<float> sentinel(size_t{out_stride} * n, -12345.0f);
    ctx.transfer().upload(out, std::as_bytes(std::span(sentinel)));

    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_get_rows(ctx, cs, {{&t, type, K, V}, ids_buf, n, out, out_stride, scale});
    cs.submit_and_wait();
    std::vector<float> got_all(sentinel.size());
    ctx.transfer().download(out, std::as_writable_bytes(std::span(got_all)));

    std::vector<float> got(size_t{K} * n);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 0; k < K; ++k)
            got[size_t{i} * K + k] = got_all[size_t{i} * out_stride + k];
        for (uint32_t k = K; k < out_stride; ++k) {
            ASSERT_EQ(got_all[size_t{i} * out_stride + k], -12345.0f)
                << "wrote past K, token " << i;
        }
    }
    const std::vector<double> want = reference::get_rows(type, table, K, ids, scale);
    EXPECT_TRUE(all_close(got, want, {1e-5 * static_cast<double>(scale), 1e-6}));
}

class GetRows : public VkTest, public ::testing::WithParamInterface<GgmlType> {};

TEST_P(GetRows, FetchesFirstLastAndRepeatedRows) {
    const GgmlType type = GetParam();
    VKLLM_SEEDED_RNG(rng);
    const uint32_t block = traits_of(type).block_elems;
    const uint32_t K = block == 1 ? 97 : block * 3;
    const uint32_t V = 37;
    run_get_rows(ctx(), type, K, V, {0, V - 1, 5, 5, 0, 17}, 1.0f, rng);
    run_get_rows(ctx(), type, K, V, {V - 1}, std::sqrt(static_cast<float>(K)), rng);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GetRows,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16,
                                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                           GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K,
                                           GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                           GgmlType::Q6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                             return std::string(ops::weight_type_suffix(p.param));
                         });

TEST(GetRowsSplit, TableSpanningSeveralBindings) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});
    ASSERT_TRUE(env);
    VKLLM_SEEDED_RNG(rng);
    // Q6_K, K = 512: 420-byte rows, 2496 rows per 1 MiB part, 3 parts; ids on both sides of
    // each part boundary.
    const uint32_t V = 6000;
    run_get_rows(*env->context, GgmlType::Q6_K, 512, V, {0, 2495, 2496, 4991, 4992, V - 1, 2496},
                 3.0f, rng);
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

}  // namespace
}  // namespace vkllm::test
