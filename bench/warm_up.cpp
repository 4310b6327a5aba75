#include "bench/warm_up.h"

#include <algorithm>

namespace vkllm::bench {

void warm_up(vk::Context& ctx, const std::function<void(vk::CommandStream&, uint32_t)>& record) {
    vk::CommandStream cs(ctx.device(), 4);
    uint32_t batch = 4;  // grows until one batch takes ~20 ms
    uint32_t call = 0;
    double total_ns = 0;
    for (int submission = 0; submission < 64 && total_ns < k_warm_up_ns; ++submission) {
        cs.begin();
        const uint32_t t0 = cs.timestamp();
        for (uint32_t i = 0; i < batch; ++i) record(cs, call++);
        const uint32_t t1 = cs.timestamp();
        cs.submit_and_wait();
        const double ns = cs.elapsed_ns(t0, t1);
        total_ns += std::max(ns, 0.0);
        if (ns < 20e6) batch = std::min<uint32_t>(batch * 2, 256);
    }
}

}  // namespace vkllm::bench
