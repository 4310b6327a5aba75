// `vkllm devices`: every Vulkan device with what vkllm cares about (vendor, driver, memory,
// subgroup size, storage/arith features, binding and allocation limits), whether it can run, and
// the kernel paths it gets; with a device profile (--profile or VKLLM_DEVICE_PROFILE), the device
// as the profile presents it.

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "runtime/ops/kernel_paths.h"
#include "runtime/ops/subgroup_probe.h"
#include "runtime/vk/context.h"
#include "runtime/vk/device.h"
#include "runtime/vk/device_profile.h"
#include "runtime/vk/error.h"
#include "runtime/vk/instance.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

// The subgroups a usable device really executes (one probe workgroup of 128), as a line.
std::string probe_line(const vk::DeviceInfo& d, const std::optional<vk::DeviceProfile>& profile) {
    try {
        vk::ContextOptions o;
        o.device = std::to_string(d.index);
        o.profile = profile;
        o.pipeline_cache_dir = "none";
        vk::Context ctx(std::move(o));
        const ops::SubgroupProbe p = ops::probe_subgroups(ctx, 128);
        const uint32_t lanes = p.invocations.empty() ? 0 : p.invocations.front();
        std::string s = std::to_string(p.subgroups) + " subgroups of " + std::to_string(lanes) +
                        " per workgroup of 128";
        if (lanes != p.reported) {
            s += " (runs fewer lanes than the " + std::to_string(p.reported) +
                 " it reports; kernels do not depend on it)";
        }
        return s;
    } catch (const std::exception& e) {
        return std::string("probe failed: ") + e.what();
    }
}

void print_device(const vk::DeviceInfo& d, const std::optional<vk::DeviceProfile>& profile) {
    std::printf("device %u: %s\n", d.index, d.name.c_str());
    if (!d.profile.empty()) {
        std::printf("  device profile    %s (limits are min(real, profile); kernels run on %s)\n",
                    d.profile.c_str(), d.real_name.c_str());
    }
    std::printf("  vendor            %s (0x%04x), device id 0x%04x\n", d.vendor.c_str(),
                d.vendor_id, d.device_id);
    std::printf("  driver            %s %s (%s)\n", d.driver_name.c_str(),
                vk::driver_version_string(d).c_str(), d.driver_info.c_str());
    std::printf("  Vulkan API        %s\n", vk::api_version_string(d.api_version).c_str());
    for (size_t i = 0; i < d.heaps.size(); ++i) {
        std::printf("  memory heap %zu     %.2f GiB%s\n", i,
                    static_cast<double>(d.heaps[i].size_bytes) / (1ull << 30),
                    d.heaps[i].device_local ? " device-local" : "");
    }
    std::printf("  subgroup size     %u (arithmetic in compute: %s)\n", d.subgroup_size,
                yes_no(d.subgroup_arithmetic));
    if (d.missing_requirements().empty()) {
        std::printf("  executes          %s\n", probe_line(d, profile).c_str());
    }
    std::printf("  fp16 math         %s   int8 math %s\n", yes_no(d.fp16_math),
                yes_no(d.int8_math));
    std::printf("  16/8-bit storage  %s / %s\n", yes_no(d.storage_16bit), yes_no(d.storage_8bit));
    std::printf("  pipeline stats    %s (registers and spills in `vkllm bench ops`)\n",
                yes_no(d.pipeline_statistics));
    std::printf("  maxStorageBufferRange     %llu bytes (%.0f MiB)\n",
                static_cast<unsigned long long>(d.max_storage_buffer_range),
                static_cast<double>(d.max_storage_buffer_range) / (1 << 20));
    std::printf("  maxMemoryAllocationSize   %llu bytes (%.0f MiB)\n",
                static_cast<unsigned long long>(d.max_memory_allocation_size),
                static_cast<double>(d.max_memory_allocation_size) / (1 << 20));
    std::printf("  shared memory     %u bytes, max workgroup %u invocations\n",
                d.max_shared_memory_bytes, d.max_workgroup_invocations);
    std::printf(
        "  queues            compute family %u, transfer-only family %s\n", d.compute_queue_family,
        d.transfer_queue_family == UINT32_MAX ? "none"
                                              : std::to_string(d.transfer_queue_family).c_str());
    const auto missing = d.missing_requirements();
    if (missing.empty()) {
        std::printf("  usable by vkllm   yes\n");
    } else {
        std::printf("  usable by vkllm   no, lacks:\n");
        for (const auto& m : missing) std::printf("    - %s\n", m.c_str());
    }
    std::printf("  kernel paths\n");
    for (const ops::KernelPath& k : ops::kernel_paths(d)) {
        std::printf("    %-38s %s\n", k.what.c_str(), k.choice.c_str());
    }
}

}  // namespace

int cmd_devices(const DevicesArgs& args) {
    std::optional<vk::DeviceProfile> profile = vk::device_profile_from_env();
    if (!args.profile.empty()) profile = vk::device_profile_named(args.profile, "--profile");
    vk::InstanceOptions o;
    o.validation = args.validation;
    if (o.validation) {
        o.sink = [](vk::MessageSeverity, const std::string& m) {
            std::fprintf(stderr, "validation: %s\n", m.c_str());
        };
    }
    vk::Instance instance(std::move(o));
    const auto devices = vk::list_devices(instance);
    if (devices.empty()) {
        std::printf("no Vulkan devices (install a GPU driver, or mesa-vulkan-drivers)\n");
        return 1;
    }
    int status = 0;
    for (const auto& d : devices) {
        if (!profile) {
            print_device(d, profile);
            continue;
        }
        try {
            print_device(vk::apply_device_profile(d, *profile), profile);
        } catch (const vk::UnsupportedDeviceError& e) {
            std::printf("device %u: %s\n  cannot apply %s\n", d.index, d.name.c_str(), e.what());
            status = 1;
        }
    }
    return status;
}

}  // namespace vkllm::cli
