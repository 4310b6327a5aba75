// `vkllm devices`: every Vulkan device with what vkllm cares about (vendor, driver, memory,
// subgroup size, storage/arith features, binding and allocation limits) and whether it can run.

#include <cstdio>

#include "runtime/vk/device.h"
#include "runtime/vk/instance.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

void print_device(const vk::DeviceInfo& d) {
    std::printf("device %u: %s\n", d.index, d.name.c_str());
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
    std::printf("  fp16 math         %s   int8 math %s\n", yes_no(d.fp16_math),
                yes_no(d.int8_math));
    std::printf("  16/8-bit storage  %s / %s\n", yes_no(d.storage_16bit), yes_no(d.storage_8bit));
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
}

}  // namespace

int cmd_devices(const Args& args) {
    args.allow_only({"--validation"});
    vk::InstanceOptions o;
    o.validation = args.has("--validation");
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
    for (const auto& d : devices) print_device(d);
    return 0;
}

}  // namespace vkllm::cli
