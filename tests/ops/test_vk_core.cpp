// The Vulkan core itself: dispatch, barriers only where needed, split tensors under shrunk
// limits, transfers through staging, and the on-disk pipeline cache.

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "quant/device_layout.h"
#include "quant/random_blocks.h"
#include "runtime/ops/fill.h"
#include "runtime/ops/weight_upload.h"
#include "runtime/vk/transfer.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

using VkCore = VkTest;

std::vector<float> read_floats(vk::Context& c, const vk::BufferSpan& s, size_t n) {
    std::vector<float> v(n);
    c.transfer().download(s, std::as_writable_bytes(std::span(v)));
    return v;
}

TEST_F(VkCore, FillWritesEveryElementOfARaggedSize) {
    const uint32_t n = 1000003;  // prime: not a multiple of the workgroup
    vk::BufferSpan buf = ctx().device_arena().allocate(uint64_t{n + 5} * 4);
    std::vector<float> sentinel(n + 5, -1.0f);
    ctx().transfer().upload(buf, std::as_bytes(std::span(sentinel)));
    vk::CommandStream cs(ctx().device());
    cs.begin();
    ops::record_fill(ctx(), cs, buf, n, 3.5f);
    cs.submit_and_wait();
    const auto v = read_floats(ctx(), buf, n + 5);
    for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(v[i], 3.5f) << "index " << i;
    for (uint32_t i = n; i < n + 5; ++i) ASSERT_EQ(v[i], -1.0f) << "tail guard broken at " << i;
}

TEST_F(VkCore, BarrierOnlyBetweenDependentDispatches) {
    vk::BufferSpan a = ctx().device_arena().allocate(4096);
    vk::BufferSpan b = ctx().device_arena().allocate(4096);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    ops::record_fill(ctx(), cs, a, 1024, 1.0f);
    ops::record_fill(ctx(), cs, b, 1024, 2.0f);  // independent: no barrier
    EXPECT_EQ(cs.barrier_count(), 0u);
    ops::record_fill(ctx(), cs, a, 1024, 4.0f);  // write-after-write on a
    EXPECT_EQ(cs.barrier_count(), 1u);
    cs.submit_and_wait();
    EXPECT_EQ(read_floats(ctx(), a, 1)[0], 4.0f);
    EXPECT_EQ(read_floats(ctx(), b, 1)[0], 2.0f);
}

// flush() submits the recording so far and continues in another command buffer: work after it
// still sees what came before (the hazard's barrier lands in the later buffer), timestamps and
// the profile span the buffers, and an empty flush submits nothing. Run twice so the second
// recording reuses the buffers the first one grew.
TEST_F(VkCore, FlushedRecordingKeepsOrderAndProfile) {
    vk::BufferSpan a = ctx().device_arena().allocate(1 << 16);
    vk::BufferSpan b = ctx().device_arena().allocate(1 << 16);
    const uint32_t n = (1 << 16) / 4;
    vk::CommandStream cs(ctx().device());
    cs.set_profiling(true);
    for (float v : {3.0f, 5.0f}) {
        cs.begin();
        cs.flush();  // nothing recorded yet
        ops::record_fill(ctx(), cs, a, n, v);
        cs.flush();
        cs.copy(a, b);  // read-after-write across the flush
        cs.flush();
        cs.flush();
        ops::record_fill(ctx(), cs, a, n, -1.0f);  // write-after-read across the flush
        cs.submit_and_wait();
        const auto got = read_floats(ctx(), b, n);
        for (uint32_t i = 0; i < n; i += 997) ASSERT_EQ(got[i], v) << "element " << i;
        EXPECT_EQ(read_floats(ctx(), a, 1)[0], -1.0f);
        EXPECT_EQ(cs.dispatches(), 2u);
        if (ctx().device().info().timestamps) {
            const auto prof = cs.dispatch_times();
            ASSERT_EQ(prof.size(), 2u);
            for (const auto& d : prof) EXPECT_GE(d.ns, 0.0) << d.module;
        }
    }
}

TEST_F(VkCore, TimestampsMeasureElapsedTime) {
    if (!ctx().device().info().timestamps) GTEST_SKIP() << "device has no compute timestamps";
    vk::BufferSpan a = ctx().device_arena().allocate(1 << 20);
    vk::CommandStream cs(ctx().device());
    cs.begin();
    const uint32_t t0 = cs.timestamp();
    ops::record_fill(ctx(), cs, a, 1 << 18, 1.0f);
    const uint32_t t1 = cs.timestamp();
    cs.submit_and_wait();
    EXPECT_GE(cs.elapsed_ns(t0, t1), 0.0);
}

TEST(VkCoreLimits, LargeTensorIsSplitIntoBindingSizedPartsOfWholeRows) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    auto env = make_vk_env({1 << 20, 4 << 20});  // 1 MiB bindings, 4 MiB allocations
    ASSERT_TRUE(env);
    vk::Context& c = *env->context;
    const uint64_t row_bytes = 3000, rows = 1500;  // 4.5 MB: several parts, rows never straddle
    vk::TensorSpans t = c.device_arena().allocate_rows(row_bytes, rows);
    ASSERT_GT(t.parts.size(), 4u);
    uint64_t total_rows = 0;
    for (size_t p = 0; p < t.parts.size(); ++p) {
        EXPECT_LE(t.parts[p].size, uint64_t{1} << 20);
        EXPECT_EQ(t.parts[p].size, t.rows_in(p) * row_bytes);
        total_rows += t.rows_in(p);
    }
    EXPECT_EQ(total_rows, rows);
    std::vector<std::byte> data(row_bytes * rows), back(row_bytes * rows);
    std::mt19937 rng(7);
    for (auto& b : data) b = static_cast<std::byte>(rng());
    c.transfer().upload(t, data);
    c.transfer().download(t, back);
    EXPECT_EQ(std::memcmp(data.data(), back.data(), data.size()), 0);
    EXPECT_THROW(c.device_arena().allocate(2 << 20), std::length_error);
    for (const auto& m : env->log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

// A weight uploaded through a staging buffer that is not a whole number of layout groups: the
// pieces are cut at group boundaries, so the device holds the same bytes as a one-piece rewrite.
// Clearing `mapped` sends both directions through staging even on lavapipe's host-visible memory.
TEST_F(VkCore, StagedWeightUploadCutsPiecesAtLayoutGroups) {
    std::mt19937_64 rng(5);
    const GgmlType type = GgmlType::Q8_0;
    const std::vector<std::byte> gguf = quant::random_quantized(type, 29 * 32, rng);  // 29 blocks
    vk::Transfer small(ctx().device(), 1000);  // 3 groups of 272 bytes per piece
    vk::BufferSpan dst = ctx().device_arena().allocate(gguf.size());
    dst.mapped = nullptr;
    ops::upload_weight_part(small, dst, type, gguf);
    std::vector<std::byte> got(gguf.size()), want(gguf.size());
    small.download(dst, got);
    quant::to_device_layout(type, gguf, want);
    EXPECT_EQ(got, want);
    vk::Transfer tiny(ctx().device(), 200);  // less than one group
    EXPECT_THROW(ops::upload_weight_part(tiny, dst, type, gguf), std::invalid_argument);
}

// `vkllm bench ops` asks for driver statistics: captured where the device reports them (real
// GPUs: registers, spills), quietly absent elsewhere (lavapipe), and never a validation message.
TEST(VkCorePipelineStatistics, CapturedWhereTheDeviceReportsThem) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    ValidationLog log;
    vk::ContextOptions o;
    o.validation = std::getenv("VKLLM_TEST_NO_VALIDATION") == nullptr;
    o.sink = [&log](vk::MessageSeverity, const std::string& m) { log.add(m); };
    o.pipeline_cache_dir = "none";
    o.capture_pipeline_statistics = true;
    vk::Context c(std::move(o));
    vk::BufferSpan a = c.device_arena().allocate(1024);
    vk::CommandStream cs(c.device());
    cs.begin();
    ops::record_fill(c, cs, a, 256, 1.0f);
    cs.submit_and_wait();
    ASSERT_FALSE(c.pipelines().all().empty());
    const std::vector<vk::PipelineStatistic> stats = c.pipelines().all().front()->statistics();
    EXPECT_EQ(c.device().captures_pipeline_statistics(), c.device().info().pipeline_statistics);
    EXPECT_EQ(!stats.empty(), c.device().captures_pipeline_statistics());
    for (const vk::PipelineStatistic& st : stats) {
        EXPECT_FALSE(st.name.empty());
        EXPECT_FALSE(st.value.empty());
    }
    for (const std::string& m : log.take()) ADD_FAILURE() << "Vulkan validation: " << m;
}

TEST(VkCorePipelineCache, SecondStartLoadsTheCacheFromDisk) {
    std::string reason;
    if (!shared_vk_env(&reason)) GTEST_SKIP() << reason;
    const auto dir =
        std::filesystem::temp_directory_path() /
        ("vkllm-pcache-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
         std::to_string(std::random_device{}()));
    for (int run = 0; run < 2; ++run) {
        vk::ContextOptions o;
        o.pipeline_cache_dir = dir;
        vk::Context c(std::move(o));
        EXPECT_EQ(c.pipelines().loaded_from_disk(), run == 1) << "run " << run;
        vk::BufferSpan a = c.device_arena().allocate(1024);
        vk::CommandStream cs(c.device());
        cs.begin();
        ops::record_fill(c, cs, a, 256, 1.0f);
        cs.submit_and_wait();
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vkllm::test

namespace vkllm::test {
namespace {

// The validation layer must really be listening, or every "no validation message" check above
// would pass vacuously: an invalid call (a zero-sized buffer) has to reach the log.
TEST(VkCoreValidation, InvalidUsageReachesTheLog) {
    std::string reason;
    VkEnv* env = shared_vk_env(&reason);
    if (!env) GTEST_SKIP() << reason;
    if (std::getenv("VKLLM_TEST_NO_VALIDATION")) GTEST_SKIP() << "validation disabled by env";
    env->log.take();
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = 0;  // VUID-VkBufferCreateInfo-size-00912
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    VkBuffer buffer = VK_NULL_HANDLE;
    const VkDevice dev = env->context->device().get();
    if (vkCreateBuffer(dev, &info, nullptr, &buffer) == VK_SUCCESS && buffer != VK_NULL_HANDLE) {
        vkDestroyBuffer(dev, buffer, nullptr);
    }
    const auto messages = env->log.take();
    ASSERT_FALSE(messages.empty())
        << "the validation layer reported nothing for a zero-size buffer";
    EXPECT_NE(messages.front().find("size"), std::string::npos) << messages.front();
}

}  // namespace
}  // namespace vkllm::test
