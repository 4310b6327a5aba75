#include "runtime/vk/device_profile.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "runtime/vk/error.h"

namespace vkllm::vk {
namespace {

constexpr uint64_t k_gib = 1ull << 30;
constexpr uint32_t k_nvidia = 0x10DE;
constexpr uint32_t k_amd = 0x1002;
constexpr uint32_t k_intel = 0x8086;

// Published properties (vulkaninfo reports of these GPUs on their usual Linux drivers: NVIDIA
// proprietary, RADV, ANV; docs/design/device-profiles.md lists the sources and what is
// unconfirmed). Only fields a runtime choice or a limit check reads are listed.
// Columns: name, GPU, vendor id, vendor, type, subgroup size, fp16 math, int8 math, accelerated
// integer dot product (DP4A on Pascal and later, dot4 on RDNA2+, DP4a on Arc; not on Polaris or
// Gen9.5), shared memory, workgroup invocations, workgroup count, storage buffer range,
// allocation size, offset alignment, VRAM.
// clang-format off
constexpr DeviceProfile k_profiles[] = {
    // Pascal: no shaderFloat16 on consumer parts (and fp16 runs at 1/64 rate anyway).
    {"gtx1080", "NVIDIA GeForce GTX 1080 (Pascal)", k_nvidia, "NVIDIA",
     VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 32, false, true, true, 49152, 1024,
     {2147483647u, 65535u, 65535u}, 0xFFFFFFFFull, 4 * k_gib, 16, 8 * k_gib},
    {"rtx4090", "NVIDIA GeForce RTX 4090 (Ada)", k_nvidia, "NVIDIA",
     VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 32, true, true, true, 49152, 1024,
     {2147483647u, 65535u, 65535u}, 0xFFFFFFFFull, 4 * k_gib, 16, 24 * k_gib},
    // RADV reports 64 and compiles compute at wave64 unless a pipeline asks for 32.
    {"rdna3", "AMD Radeon RX 7900 XTX (RDNA3, RADV)", k_amd, "AMD",
     VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 64, true, true, true, 65536, 1024,
     {4294967295u, 65535u, 65535u}, 0xFFFFFFFFull, 0xFFFFFFFCull, 4, 24 * k_gib},
    {"gcn", "AMD Radeon RX 580 (GCN4 Polaris, RADV)", k_amd, "AMD",
     VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 64, true, true, false, 65536, 1024,
     {4294967295u, 65535u, 65535u}, 0xFFFFFFFFull, 0xFFFFFFFCull, 4, 8 * k_gib},
    // ANV reports 32 and picks SIMD8/16/32 per pipeline; allocations cap at 2 GiB.
    {"arc", "Intel Arc A770 (Alchemist, ANV)", k_intel, "Intel",
     VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 32, true, true, true, 65536, 1024,
     {65535u, 65535u, 65535u}, 0xFFFFFFFFull, 2 * k_gib, 4, 16 * k_gib},
    {"intel-igpu", "Intel UHD Graphics 630 (Gen9.5, ANV)", k_intel, "Intel",
     VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 32, true, true, false, 65536, 1024,
     {65535u, 65535u, 65535u}, k_gib, 2 * k_gib, 4, 4 * k_gib},
    // Not one GPU: Vulkan's minimum compute shared memory (16 KiB), a 16-lane subgroup and no
    // fp16/int8 arithmetic, so every small-memory fallback (mat-mat and expert tiles of 8 KiB,
    // fewer attention rows) runs in CI. Invocations stay at 256, what the fixed-size kernels
    // need (Vulkan guarantees only 128; devices below 256 are refused).
    {"min-16k", "a GPU at Vulkan's 16 KiB minimum of shared memory", 0, "any",
     VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 16, false, false, false, 16384, 256,
     {65535u, 65535u, 65535u}, 128ull << 20, k_gib, 64, 2 * k_gib},
};
// clang-format on

}  // namespace

std::span<const DeviceProfile> device_profiles() {
    return k_profiles;
}

std::optional<DeviceProfile> find_device_profile(std::string_view name) {
    for (const DeviceProfile& p : k_profiles) {
        if (p.name == name) return p;
    }
    return std::nullopt;
}

DeviceProfile device_profile_named(std::string_view name, std::string_view what) {
    if (auto p = find_device_profile(name)) return *p;
    std::string names;
    for (const DeviceProfile& p : k_profiles) {
        names += (names.empty() ? "" : ", ") + std::string(p.name);
    }
    throw std::invalid_argument(std::string(what) + "='" + std::string(name) +
                                "' is not a profile; profiles are: " + names);
}

uint32_t lavapipe_vector_width(uint32_t subgroup_size) {
    return subgroup_size * 32;
}

DeviceInfo profile_reference_info(const DeviceProfile& p) {
    DeviceInfo d;
    d.name = std::string(p.gpu);
    d.vendor = std::string(p.vendor);
    d.vendor_id = p.vendor_id;
    d.type = p.type;
    d.api_version = VK_API_VERSION_1_3;
    d.heaps = {{p.vram_bytes, true}};
    d.subgroup_size = p.subgroup_size;
    d.subgroup_arithmetic = true;
    d.fp16_math = p.fp16_math;
    d.int8_math = p.int8_math;
    d.int_dot = p.int_dot;
    d.int_dot_accelerated = p.int_dot;
    d.storage_16bit = true;
    d.storage_8bit = true;
    d.push_descriptor = true;
    d.timestamps = true;
    d.max_storage_buffer_range = p.max_storage_buffer_range;
    d.max_memory_allocation_size = p.max_memory_allocation_size;
    d.min_storage_buffer_offset_alignment = p.min_storage_buffer_offset_alignment;
    d.max_push_constants_bytes = 256;
    std::copy(std::begin(p.max_workgroup_count), std::end(p.max_workgroup_count),
              d.max_workgroup_count);
    d.max_workgroup_invocations = p.max_workgroup_invocations;
    d.max_shared_memory_bytes = p.max_shared_memory_bytes;
    d.compute_queue_family = 0;
    return d;
}

DeviceInfo apply_device_profile(const DeviceInfo& real, const DeviceProfile& p) {
    const std::string tag = "device profile '" + std::string(p.name) + "' (" + std::string(p.gpu) +
                            ") on '" + real.name + "': ";
    if (real.subgroup_size != p.subgroup_size) {
        std::string hint;
        if (real.vendor_id == 0x10005) {
            hint = "; on lavapipe set LP_NATIVE_VECTOR_WIDTH=" +
                   std::to_string(lavapipe_vector_width(p.subgroup_size));
        }
        throw UnsupportedDeviceError(tag + "needs subgroup size " +
                                     std::to_string(p.subgroup_size) + ", the device reports " +
                                     std::to_string(real.subgroup_size) + hint);
    }
    if ((p.fp16_math && !real.fp16_math) || (p.int8_math && !real.int8_math) ||
        (p.int_dot && !real.int_dot)) {
        throw UnsupportedDeviceError(
            tag + "needs shaderFloat16/shaderInt8/shaderIntegerDotProduct, which the device lacks");
    }
    DeviceInfo d = real;
    d.profile = std::string(p.name);
    d.real_name = real.name;
    d.real_vendor_id = real.vendor_id;
    d.name = real.name + " as " + std::string(p.gpu);
    d.vendor = std::string(p.vendor);
    d.vendor_id = p.vendor_id;
    d.type = p.type;
    d.fp16_math = p.fp16_math;
    d.int8_math = p.int8_math;
    // Acceleration is a speed property: the profile's GPU decides the path, and the real device
    // only has to compile and run it (int_dot above).
    d.int_dot_accelerated = p.int_dot;
    // The real device runs whatever is chosen, so no limit may grow past what it has.
    d.max_shared_memory_bytes = std::min(real.max_shared_memory_bytes, p.max_shared_memory_bytes);
    d.max_workgroup_invocations =
        std::min(real.max_workgroup_invocations, p.max_workgroup_invocations);
    for (int i = 0; i < 3; ++i) {
        d.max_workgroup_count[i] = std::min(real.max_workgroup_count[i], p.max_workgroup_count[i]);
    }
    d.max_storage_buffer_range =
        std::min(real.max_storage_buffer_range, p.max_storage_buffer_range);
    d.max_memory_allocation_size =
        std::min(real.max_memory_allocation_size, p.max_memory_allocation_size);
    d.min_storage_buffer_offset_alignment =
        std::max(real.min_storage_buffer_offset_alignment, p.min_storage_buffer_offset_alignment);
    for (MemoryHeapInfo& h : d.heaps) {
        if (h.device_local) h.size_bytes = std::min(h.size_bytes, p.vram_bytes);
    }
    return d;
}

std::optional<DeviceProfile> device_profile_from_env() {
    const char* v = std::getenv("VKLLM_DEVICE_PROFILE");
    if (v == nullptr || *v == '\0') return std::nullopt;
    return device_profile_named(v, "VKLLM_DEVICE_PROFILE");
}

}  // namespace vkllm::vk
