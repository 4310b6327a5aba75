#pragma once
// Sustained GPU load before a timed pass. A GPU that idled while the host prepared the next case
// (quantizing, uploading hundreds of MiB) runs its first milliseconds at lower clocks; ten warm-up
// calls (~1 ms) do not bring them back, so a short pass times the clock state, not the kernel.

#include <cstdint>
#include <functional>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

// GPU time the warm-up keeps the device busy for, at least.
inline constexpr double k_warm_up_ns = 200e6;

// Records `record(cs, i)` calls in batches of up to 256 and submits them until at least
// k_warm_up_ns of GPU time has passed (or 64 batches have run). `record` must be safe to call any
// number of times (each call waits for the previous one through its own barriers).
void warm_up(vk::Context& ctx, const std::function<void(vk::CommandStream&, uint32_t)>& record);

}  // namespace vkllm::bench
