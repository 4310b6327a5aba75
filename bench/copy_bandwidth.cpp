#include "bench/copy_bandwidth.h"

#include <algorithm>

#include "runtime/vk/command_stream.h"

namespace vkllm::bench {

Stats measure_copy_bandwidth(vk::Context& ctx, int repeat) {
    // Large enough to defeat caches (H100 L2 is 50 MB), small enough for one binding anywhere.
    const uint64_t bytes = std::min<uint64_t>(512ull << 20, ctx.device().limits().max_binding_bytes);
    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, bytes);
    const vk::BufferSpan src = arena.allocate(bytes);
    const vk::BufferSpan dst = arena.allocate(bytes);
    vk::CommandStream cs(ctx.device());
    std::vector<double> gbps;
    for (int i = 0; i < repeat + 2; ++i) {
        cs.begin();
        const uint32_t t0 = cs.timestamp();
        cs.copy(src, dst);
        const uint32_t t1 = cs.timestamp();
        cs.submit_and_wait();
        const double ns = cs.elapsed_ns(t0, t1);
        if (i >= 2 && ns > 0) gbps.push_back(2.0 * static_cast<double>(bytes) / ns);  // 2 warm-ups
    }
    return summarize(gbps);
}

}  // namespace vkllm::bench
