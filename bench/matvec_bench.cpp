#include "bench/matvec_bench.h"

#include <algorithm>
#include <random>
#include <vector>

#include "bench/warm_up.h"
#include "quant/random_blocks.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/quantize_q8.h"
#include "runtime/ops/weight_upload.h"
#include "runtime/vk/command_stream.h"

namespace vkllm::bench {

uint64_t device_local_bytes(const vk::DeviceInfo& info) {
    uint64_t best = 0;
    for (const auto& h : info.heaps) {
        if (h.device_local) best = std::max(best, h.size_bytes);
    }
    return best;
}

void upload_pattern(vk::Context& ctx, const vk::TensorSpans& t, GgmlType type, uint32_t K) {
    std::mt19937_64 rng(1);
    const uint64_t rows_in_pattern = std::max<uint64_t>(1, (1u << 20) / t.row_bytes);
    const std::vector<std::byte> pattern = quant::random_quantized(type, rows_in_pattern * K, rng);
    std::vector<std::byte> part;
    for (size_t p = 0; p < t.parts.size(); ++p) {
        part.resize(t.rows_in(p) * t.row_bytes);
        for (size_t off = 0; off < part.size(); off += pattern.size()) {
            std::copy_n(pattern.begin(), std::min(pattern.size(), part.size() - off),
                        part.begin() + static_cast<ptrdiff_t>(off));
        }
        ops::upload_weight_part(ctx.transfer(), t.parts[p], type, part);
    }
}

vk::BufferSpan quantize_once(vk::Context& ctx, vk::Arena& arena, const vk::BufferSpan& x,
                             uint32_t K, uint32_t vectors) {
    const vk::BufferSpan xq = arena.allocate(ops::q8_1_bytes(K, vectors));
    vk::CommandStream cs(ctx.device());
    cs.begin();
    ops::record_quantize_q8_1(ctx, cs, {x, K, K, vectors, xq});
    cs.submit_and_wait();
    return xq;
}

uint32_t rotation_copies(uint64_t weight_bytes, uint64_t device_local, int repeat) {
    // As many copies as it takes to pass k_rotation_bytes, within a quarter of device memory and
    // no more than there are timed calls.
    const uint64_t want =
        (k_rotation_bytes + weight_bytes - 1) / std::max<uint64_t>(weight_bytes, 1);
    const uint64_t fit = device_local / 4 / std::max<uint64_t>(weight_bytes, 1);
    return static_cast<uint32_t>(
        std::max<uint64_t>(1, std::min({want, fit, static_cast<uint64_t>(std::max(repeat, 1))})));
}

std::vector<vk::TensorSpans> rotated_weights(vk::Context& ctx, vk::Arena& arena, GgmlType type,
                                             uint32_t K, uint32_t N, uint32_t copies) {
    // One upload, then device-side copies: filling hundreds of MiB from the host per shape and
    // type would dominate a bench run on a lent GPU.
    std::vector<vk::TensorSpans> w;
    w.push_back(arena.allocate_rows(row_bytes(type, K), N));
    upload_pattern(ctx, w.back(), type, K);
    if (copies > 1) {
        vk::CommandStream copy(ctx.device());
        copy.begin();
        for (uint32_t c = 1; c < copies; ++c) {
            w.push_back(arena.allocate_rows(row_bytes(type, K), N));
            for (size_t p = 0; p < w[0].parts.size(); ++p) copy.copy(w[0].parts[p], w[c].parts[p]);
        }
        copy.submit_and_wait();
    }
    return w;
}

std::optional<MatVecResult> bench_matvec(vk::Context& ctx, GgmlType type, MatVecShape shape,
                                         uint32_t ncols, int repeat, MatVecVariant variant) {
    const uint64_t weight_bytes = row_bytes(type, shape.K) * shape.N;
    const uint64_t device_local = device_local_bytes(ctx.device().info());
    if (weight_bytes > device_local / 2) return std::nullopt;

    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, 1ull << 30);
    // Consecutive calls read different copies, so a weight that fits the L2 cache is still
    // streamed from memory, as in decode, where each matrix is read once per token.
    const uint32_t copies = rotation_copies(weight_bytes, device_local, repeat);
    const std::vector<vk::TensorSpans> w =
        rotated_weights(ctx, arena, type, shape.K, shape.N, copies);
    const vk::BufferSpan x = arena.allocate(uint64_t{shape.K} * ncols * 4);
    const vk::BufferSpan y = arena.allocate(uint64_t{shape.N} * ncols * 4);
    std::mt19937_64 rng(2);
    std::normal_distribution<float> nd;
    std::vector<float> xs(uint64_t{shape.K} * ncols);
    for (float& v : xs) v = nd(rng);
    ctx.transfer().upload(x, std::as_bytes(std::span(xs)));

    ops::MatVecArgs a;
    a.x = x;
    a.x_stride = shape.K;
    a.y = y;
    a.y_stride = shape.N;
    a.ncols = ncols;
    a.path = variant.path;
    a.rows_per_subgroup = variant.rows_per_subgroup;
    a.split_k = variant.split_k;
    if (variant.path == ops::MatVecPath::IntDot)
        a.xq = quantize_once(ctx, arena, x, shape.K, ncols);

    vk::CommandStream cs(ctx.device(), 2 * static_cast<uint32_t>(repeat) + 8);
    std::vector<double> us, gbps;
    a.weight = {&w[0], type, shape.K, shape.N};
    const uint64_t bytes = ops::matvec_bytes(a);
    warm_up(ctx, [&](vk::CommandStream& s, uint32_t i) {
        a.weight = {&w[i % copies], type, shape.K, shape.N};
        ops::record_matvec(ctx, s, a);
    });
    for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches right before the timed pass
        cs.begin();
        std::vector<std::pair<uint32_t, uint32_t>> marks;
        for (int i = 0; i < repeat; ++i) {
            a.weight = {&w[static_cast<size_t>(i) % copies], type, shape.K, shape.N};
            const uint32_t t0 = cs.timestamp();
            ops::record_matvec(ctx, cs, a);  // WAW on y: each call waits for the previous one
            marks.emplace_back(t0, cs.timestamp());
        }
        cs.submit_and_wait();
        if (pass == 0) continue;
        for (auto [t0, t1] : marks) {
            const double ns = cs.elapsed_ns(t0, t1);
            if (ns <= 0) continue;
            us.push_back(ns / 1e3);
            gbps.push_back(static_cast<double>(bytes) / ns);
        }
    }
    return MatVecResult{summarize(gbps), summarize(us), bytes, copies};
}

}  // namespace vkllm::bench
