#include "bench/copy_bandwidth.h"

#include <algorithm>
#include <functional>

#include "runtime/vk/command_stream.h"

namespace vkllm::bench {
namespace {

struct CopyPush {  // mirrors Push in shaders/copy_vec4.comp
    uint32_t count;
    uint32_t stride;
};
static_assert(sizeof(CopyPush) == 8);

Stats time_copies(vk::Context& ctx, uint64_t bytes, int repeat,
                  const std::function<void(vk::CommandStream&)>& record) {
    vk::CommandStream cs(ctx.device());
    std::vector<double> gbps;
    for (int i = 0; i < repeat + 2; ++i) {
        cs.begin();
        const uint32_t t0 = cs.timestamp();
        record(cs);
        const uint32_t t1 = cs.timestamp();
        cs.submit_and_wait();
        const double ns = cs.elapsed_ns(t0, t1);
        if (i >= 2 && ns > 0) gbps.push_back(2.0 * static_cast<double>(bytes) / ns);  // 2 warm-ups
    }
    return summarize(gbps);
}

}  // namespace

CopyBandwidth measure_copy_bandwidth(vk::Context& ctx, int repeat) {
    // Large enough to defeat caches (H100 L2 is 50 MB), small enough for one binding anywhere.
    const uint64_t bytes =
        std::min<uint64_t>(512ull << 20, ctx.device().limits().max_binding_bytes) / 16 * 16;
    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, bytes);
    const vk::BufferSpan src = arena.allocate(bytes);
    const vk::BufferSpan dst = arena.allocate(bytes);
    CopyBandwidth r;
    r.transfer = time_copies(ctx, bytes, repeat, [&](vk::CommandStream& cs) { cs.copy(src, dst); });

    constexpr uint32_t k_workgroup = 256;
    const uint32_t count = static_cast<uint32_t>(bytes / 16);
    const uint32_t groups = std::min<uint32_t>(vk::groups_for(count, k_workgroup), 65535);
    const vk::Pipeline& p = ctx.pipelines().get({"copy_vec4", {k_workgroup}, sizeof(CopyPush), 2});
    r.shader = time_copies(ctx, bytes, repeat, [&](vk::CommandStream& cs) {
        cs.dispatch(p, {vk::reads(src), vk::writes(dst)}, CopyPush{count, groups * k_workgroup},
                    {groups});
    });
    return r;
}

}  // namespace vkllm::bench
