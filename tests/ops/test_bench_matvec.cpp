// `vkllm bench ops` mat-vec timing (bench/matvec_bench.h): the L2-busting rotation is sized as
// documented, and a timed call through rotated copies reports a positive rate.
#include <gtest/gtest.h>

#include "bench/matvec_bench.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

constexpr uint64_t k_mib = 1ull << 20;

TEST(BenchRotation, CopiesPassTheRotationBytesWithinAQuarterOfMemory) {
    EXPECT_EQ(bench::rotation_copies(1 * k_mib, 64ull << 30, 1000), 512u);  // 512 MiB reached
    EXPECT_EQ(bench::rotation_copies(3 * k_mib, 64ull << 30, 1000), 171u);  // rounded up
    EXPECT_EQ(bench::rotation_copies(1 * k_mib, 64ull << 30, 20), 20u);     // one per call
    EXPECT_EQ(bench::rotation_copies(10 * k_mib, 100 * k_mib, 20), 2u);     // a quarter of memory
    EXPECT_EQ(bench::rotation_copies(600 * k_mib, 64ull << 30, 20), 1u);    // already past L2
    EXPECT_EQ(bench::rotation_copies(60 * k_mib, 100 * k_mib, 20), 1u);     // never zero
}

using BenchMatVec = VkTest;

TEST_F(BenchMatVec, RotatesThroughCopiesAndReportsARate) {
    const auto r = bench::bench_matvec(ctx(), GgmlType::Q8_0, {256, 64, "test"}, 1, 3);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->copies, 3u);
    EXPECT_EQ(r->bytes_per_call, 64u * 8 * 34 + 256u * 4 + 64u * 4);
    EXPECT_GT(r->gbps.median, 0.0);
}

}  // namespace
}  // namespace vkllm::test
