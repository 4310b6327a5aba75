#pragma once
// Device copy bandwidth in GB/s (bytes read + bytes written per second) from a large
// vkCmdCopyBuffer timed with timestamp queries: the roofline every memory-bound kernel is
// reported against.

#include "bench/stats.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

Stats measure_copy_bandwidth(vk::Context& ctx, int repeat);

}  // namespace vkllm::bench
