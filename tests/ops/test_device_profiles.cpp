// Device profiles (docs/design/device-profiles.md): a profiled device must get exactly the kernel
// paths the profile's real GPU gets, so CI's lavapipe runs under a profile test the GPU's code
// path and not a look-alike. Also: what a profile refuses, and the live profile of this process
// (VKLLM_DEVICE_PROFILE, set by scripts/test-matrix.sh).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>

#include "runtime/ops/kernel_paths.h"
#include "runtime/ops/subgroup_probe.h"
#include "runtime/vk/device_profile.h"
#include "runtime/vk/error.h"
#include "tests/support/vk_test_env.h"

namespace vkllm::test {
namespace {

// Mesa 22.3 lavapipe's published limits, at the LP_NATIVE_VECTOR_WIDTH that makes it report
// `subgroup` (what CI runs the profile on).
vk::DeviceInfo lavapipe_info(uint32_t subgroup) {
    vk::DeviceInfo d;
    d.name = "llvmpipe";
    d.vendor = "Mesa (llvmpipe)";
    d.vendor_id = 0x10005;
    d.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
    d.api_version = VK_API_VERSION_1_3;
    d.heaps = {{2ull << 30, true}};
    d.subgroup_size = subgroup;
    d.subgroup_arithmetic = d.fp16_math = d.int8_math = d.int_dot = true;
    d.storage_16bit = d.storage_8bit = d.push_descriptor = true;
    d.max_storage_buffer_range = 128ull << 20;
    d.max_memory_allocation_size = 2ull << 30;
    d.min_storage_buffer_offset_alignment = 16;
    d.max_push_constants_bytes = 256;
    d.max_workgroup_count[0] = d.max_workgroup_count[1] = d.max_workgroup_count[2] = 65535;
    d.max_workgroup_invocations = 1024;
    d.max_shared_memory_bytes = 32768;
    d.compute_queue_family = 0;
    return d;
}

void expect_same_paths(const vk::DeviceInfo& profiled, const vk::DeviceInfo& real) {
    const auto got = ops::kernel_paths(profiled);
    const auto want = ops::kernel_paths(real);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i], want[i]) << got[i].what << ": profiled '" << got[i].choice
                                   << "', real GPU '" << want[i].choice << "'";
    }
}

TEST(DeviceProfiles, LavapipeUnderEachProfileGetsTheGpusKernelPaths) {
    std::set<std::string> distinct;
    for (const vk::DeviceProfile& p : vk::device_profiles()) {
        SCOPED_TRACE(std::string(p.name));
        const vk::DeviceInfo real = vk::profile_reference_info(p);
        const vk::DeviceInfo profiled = vk::apply_device_profile(lavapipe_info(p.subgroup_size), p);
        expect_same_paths(profiled, real);
        EXPECT_EQ(profiled.vendor_id, p.vendor_id);
        EXPECT_EQ(profiled.type, p.type);
        EXPECT_EQ(profiled.fp16_math, p.fp16_math);
        EXPECT_EQ(profiled.profile, std::string(p.name));
        std::string all;
        for (const auto& k : ops::kernel_paths(real)) all += k.choice + "\n";
        distinct.insert(all);
    }
    // The GPU paths differ from lavapipe's own: a profile that changed nothing would test nothing.
    std::string cpu;
    for (const auto& k : ops::kernel_paths(lavapipe_info(8))) cpu += k.choice + "\n";
    EXPECT_EQ(distinct.count(cpu), 0u);
    EXPECT_GE(distinct.size(), 3u) << "subgroup 32 vs 64 and fp16 vs none should show";
}

TEST(DeviceProfiles, LimitsNeverGrowPastTheRealDevice) {
    const vk::DeviceProfile p = *vk::find_device_profile("rdna3");
    const vk::DeviceInfo real = lavapipe_info(64);
    const vk::DeviceInfo d = vk::apply_device_profile(real, p);
    EXPECT_EQ(d.max_shared_memory_bytes, 32768u);           // profile 64 KiB
    EXPECT_EQ(d.max_storage_buffer_range, 128ull << 20);    // profile 4 GiB
    EXPECT_EQ(d.max_memory_allocation_size, 2ull << 30);    // profile ~4 GiB
    EXPECT_EQ(d.max_workgroup_count[0], 65535u);            // profile 2^32 - 1
    EXPECT_EQ(d.min_storage_buffer_offset_alignment, 16u);  // the stricter of 16 and 4
    EXPECT_EQ(d.heaps.at(0).size_bytes, 2ull << 30);
    EXPECT_EQ(d.compute_queue_family, real.compute_queue_family);
}

TEST(DeviceProfiles, RefusesASubgroupSizeTheDeviceDoesNotReport) {
    const vk::DeviceProfile p = *vk::find_device_profile("gtx1080");
    try {
        vk::apply_device_profile(lavapipe_info(8), p);
        FAIL() << "expected UnsupportedDeviceError";
    } catch (const vk::UnsupportedDeviceError& e) {
        EXPECT_NE(std::string(e.what()).find("LP_NATIVE_VECTOR_WIDTH=1024"), std::string::npos)
            << e.what();
    }
    vk::DeviceInfo no_fp16 = lavapipe_info(32);
    no_fp16.fp16_math = false;
    EXPECT_THROW(vk::apply_device_profile(no_fp16, *vk::find_device_profile("rtx4090")),
                 vk::UnsupportedDeviceError);
    EXPECT_NO_THROW(vk::apply_device_profile(no_fp16, p));  // Pascal does not need fp16
    EXPECT_FALSE(vk::find_device_profile("gtx 1080").has_value());
    EXPECT_EQ(vk::lavapipe_vector_width(64), 2048u);
}

// A device below what the kernels need is refused with the reason, never run.
TEST(DeviceProfiles, TooFewWorkgroupInvocationsIsAMissingRequirement) {
    vk::DeviceInfo d = lavapipe_info(8);
    EXPECT_TRUE(d.missing_requirements().empty());
    d.max_workgroup_invocations = 128;  // Vulkan's guaranteed minimum
    const auto missing = d.missing_requirements();
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_NE(missing[0].find("256 invocations"), std::string::npos) << missing[0];
}

// The process's own device: under VKLLM_DEVICE_PROFILE it must be the profiled device with the
// GPU's paths; without one, it must be unprofiled.
TEST_F(VkTest, ThisProcessRunsTheRequestedProfile) {
    const vk::DeviceInfo& info = ctx().device().info();
    const char* env = std::getenv("VKLLM_DEVICE_PROFILE");
    if (env == nullptr || *env == '\0') {
        EXPECT_TRUE(info.profile.empty());
        return;
    }
    const auto p = vk::find_device_profile(env);
    ASSERT_TRUE(p.has_value()) << env;
    EXPECT_EQ(info.profile, std::string(p->name));
    expect_same_paths(info, vk::profile_reference_info(*p));
}

// The invariant matvec relies on (docs/design/subgroups.md rule 2): a subgroup holds
// workgroup / gl_NumSubgroups invocations, at most the reported size, whatever the device or
// LP_NATIVE_VECTOR_WIDTH; the reported size is the device's.
TEST_F(VkTest, SubgroupsHoldWorkgroupOverSubgroupCountInvocations) {
    for (uint32_t wg : {128u, 256u}) {
        SCOPED_TRACE("workgroup " + std::to_string(wg));
        const ops::SubgroupProbe p = ops::probe_subgroups(ctx(), wg);
        EXPECT_EQ(p.reported, ctx().device().info().subgroup_size);
        ASSERT_GE(p.subgroups, 1u);
        ASSERT_EQ(wg % p.subgroups, 0u);
        uint32_t total = 0;
        for (uint32_t n : p.invocations) {
            EXPECT_EQ(n, wg / p.subgroups);
            EXPECT_LE(n, p.reported);
            total += n;
        }
        EXPECT_EQ(total, wg);
        std::printf("[ info     ] workgroup %u: reported subgroup %u, %u subgroups of %u\n", wg,
                    p.reported, p.subgroups, p.invocations.empty() ? 0 : p.invocations[0]);
    }
    EXPECT_THROW(ops::probe_subgroups(ctx(), 96), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm::test
