#pragma once
// Device copy bandwidth in GB/s (bytes read + bytes written per second), timed with timestamp
// queries: the roofline every memory-bound kernel is reported against. Two forms: the transfer
// command (vkCmdCopyBuffer) and a compute shader with 16-byte loads/stores; the larger is the
// device's measured copy bandwidth.

#include "bench/stats.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

struct CopyBandwidth {
    Stats transfer;  // vkCmdCopyBuffer
    Stats shader;    // copy_vec4.comp
    double best_median() const {
        return transfer.median > shader.median ? transfer.median : shader.median;
    }
};

CopyBandwidth measure_copy_bandwidth(vk::Context& ctx, int repeat);

}  // namespace vkllm::bench
