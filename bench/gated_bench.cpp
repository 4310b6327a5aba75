#include "bench/gated_bench.h"

#include <functional>
#include <random>
#include <span>
#include <vector>

#include "bench/matvec_bench.h"
#include "bench/warm_up.h"
#include "runtime/ops/glu.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/row_parts.h"
#include "runtime/vk/command_stream.h"

namespace vkllm::bench {

std::optional<GatedResult> bench_gated_matvec(vk::Context& ctx, GgmlType type, uint32_t K,
                                              uint32_t F, int repeat) {
    const vk::DeviceInfo& info = ctx.device().info();
    if (!info.int_dot || !ops::has_int_dot_kernel(type) || F % 32 != 0) return std::nullopt;
    const uint64_t half = row_bytes(type, K) * F;
    const uint64_t device_local = device_local_bytes(info);
    if (2 * half > device_local / 4 || 2 * half > ctx.device().limits().max_binding_bytes) {
        return std::nullopt;
    }
    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, 1ull << 30);
    const uint32_t copies = rotation_copies(2 * half, device_local, repeat);
    // The fused form reads [gate; up] as one weight; the separate form reads gate and up as two
    // weights of the same bytes (the loader's views of the halves), so both stream 2 * half.
    const std::vector<vk::TensorSpans> both = rotated_weights(ctx, arena, type, K, 2 * F, copies);
    const std::vector<vk::TensorSpans> gate = rotated_weights(ctx, arena, type, K, F, copies);
    const std::vector<vk::TensorSpans> up = rotated_weights(ctx, arena, type, K, F, copies);
    const vk::BufferSpan x = arena.allocate(uint64_t{K} * 4);
    std::mt19937_64 rng(4);
    std::normal_distribution<float> nd;
    std::vector<float> xs(K);
    for (float& v : xs) v = nd(rng);
    ctx.transfer().upload(x, std::as_bytes(std::span(xs)));
    const vk::BufferSpan xq = quantize_once(ctx, arena, x, K, 1);
    const vk::BufferSpan g = arena.allocate(uint64_t{F} * 4);
    const vk::BufferSpan u = arena.allocate(uint64_t{F} * 4);
    const vk::BufferSpan q8 = arena.allocate(ops::q8_1_bytes(F, 1));

    const auto fused = [&](vk::CommandStream& s, uint32_t i) {
        ops::MatVecGluArgs a;
        a.weight = {&both[i % copies], type, K, 2 * F};
        a.xq = xq;
        a.path = ops::MatVecPath::IntDot;
        a.out = g;
        a.q8_out = q8;
        ops::record_matvec_glu(ctx, s, a);
    };
    const vk::TensorSpans gs = ops::rows_of(g, uint64_t{F} * 4, 1);
    const vk::TensorSpans us = ops::rows_of(u, uint64_t{F} * 4, 1);
    const auto separate = [&](vk::CommandStream& s, uint32_t i) {
        ops::MatVecArgs a;
        a.xq = xq;
        a.path = ops::MatVecPath::IntDot;
        a.x = x;
        a.weight = {&gate[i % copies], type, K, F};
        a.y = g;
        ops::record_matvec(ctx, s, a);
        a.weight = {&up[i % copies], type, K, F};
        a.y = u;
        ops::record_matvec(ctx, s, a);
        ops::record_gelu_glu(ctx, s, gs, us, gs, q8);
    };
    GatedResult r;
    r.weight_bytes = 2 * half;
    r.copies = copies;
    for (int which = 0; which < 2; ++which) {
        const std::function<void(vk::CommandStream&, uint32_t)> record =
            which == 0 ? std::function<void(vk::CommandStream&, uint32_t)>(fused) : separate;
        warm_up(ctx, [&](vk::CommandStream& s, uint32_t i) { record(s, i); });
        vk::CommandStream cs(ctx.device(), 2 * static_cast<uint32_t>(repeat) + 8);
        std::vector<double> us_list;
        for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches right before the timed one
            cs.begin();
            std::vector<std::pair<uint32_t, uint32_t>> marks;
            for (int i = 0; i < repeat; ++i) {
                const uint32_t t0 = cs.timestamp();
                record(cs, static_cast<uint32_t>(i));  // WAW on the outputs: calls do not overlap
                marks.emplace_back(t0, cs.timestamp());
            }
            cs.submit_and_wait();
            if (pass == 0) continue;
            for (auto [t0, t1] : marks) us_list.push_back(cs.elapsed_ns(t0, t1) / 1e3);
        }
        (which == 0 ? r.fused_us : r.separate_us) = summarize(us_list);
    }
    return r;
}

}  // namespace vkllm::bench
