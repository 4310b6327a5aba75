#include "runtime/ops/subgroup_probe.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/vk/arena.h"
#include "runtime/vk/command_stream.h"

namespace vkllm::ops {

SubgroupProbe probe_subgroups(vk::Context& ctx, uint32_t workgroup) {
    const vk::DeviceInfo& info = ctx.device().info();
    if (workgroup == 0 || (workgroup & (workgroup - 1)) != 0 ||
        workgroup > info.max_workgroup_invocations) {
        throw std::invalid_argument(
            "[subgroup_probe] expected a power-of-two workgroup of at most " +
            std::to_string(info.max_workgroup_invocations) + ", got " + std::to_string(workgroup));
    }
    const uint64_t words = 2 + uint64_t{workgroup};  // at most one subgroup per invocation
    vk::Arena arena(ctx.device(), vk::MemoryIntent::Readback, 64 << 10);
    const vk::BufferSpan out = arena.allocate(words * 4);
    std::vector<uint32_t> host(words, 0);
    const vk::Pipeline& p = ctx.pipelines().get({"subgroup_probe", {workgroup}, 0, 1});
    vk::CommandStream cs(ctx.device());
    cs.begin();
    const vk::Binding bindings[] = {vk::writes(out)};
    cs.dispatch(p, bindings, nullptr, 0, {1, 1, 1});
    cs.submit_and_wait();
    ctx.transfer().download(out, std::as_writable_bytes(std::span(host)));
    SubgroupProbe r;
    r.workgroup = workgroup;
    r.reported = host[0];
    r.subgroups = std::min<uint32_t>(host[1], workgroup);
    r.invocations.assign(host.begin() + 2, host.begin() + 2 + r.subgroups);
    return r;
}

}  // namespace vkllm::ops
