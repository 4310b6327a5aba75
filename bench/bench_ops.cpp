#include "bench/bench_ops.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench/copy_bandwidth.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {

int run_ops_bench(const OpsBenchOptions& options) {
    vk::ContextOptions o;
    o.device = options.device;
    vk::Context ctx(std::move(o));
    const auto& info = ctx.device().info();
    std::printf("device: %s (%s %s)\n", info.name.c_str(), info.driver_name.c_str(),
                vk::driver_version_string(info).c_str());
    const Stats copy = measure_copy_bandwidth(ctx, options.repeat);
    std::printf("copy bandwidth (vkCmdCopyBuffer, read+write): median %.1f GB/s (min %.1f, max %.1f)\n",
                copy.median, copy.min, copy.max);
    return 0;
}

}  // namespace vkllm::bench
