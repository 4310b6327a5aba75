#include "bench/expert_bench.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "bench/matvec_bench.h"
#include "bench/warm_up.h"
#include "runtime/ops/matmul_id.h"
#include "runtime/vk/command_stream.h"

namespace vkllm::bench {

std::optional<ExpertResult> bench_experts(vk::Context& ctx, GgmlType type, ExpertShape s,
                                          uint32_t T, int repeat) {
    const uint64_t rows = uint64_t{s.N} * s.E;
    const uint64_t weight_bytes = row_bytes(type, s.K) * rows;
    if (weight_bytes > device_local_bytes(ctx.device().info()) / 2) return std::nullopt;
    const uint32_t P = s.k * T;

    vk::Arena arena(ctx.device(), vk::MemoryIntent::DeviceLocal, 1ull << 30);
    const vk::TensorSpans w = arena.allocate_rows(row_bytes(type, s.K), rows);
    upload_pattern(ctx, w, type, s.K);
    std::mt19937_64 rng(3);
    std::vector<uint32_t> ids(P);
    std::vector<uint32_t> perm(s.E);
    for (uint32_t t = 0; t < T; ++t) {  // k distinct experts per token, as top-k routing gives
        std::iota(perm.begin(), perm.end(), 0u);
        std::shuffle(perm.begin(), perm.end(), rng);
        std::copy_n(perm.begin(), s.k, ids.begin() + static_cast<ptrdiff_t>(t) * s.k);
    }
    std::normal_distribution<float> nd;
    std::vector<float> xs(uint64_t{s.K} * T);
    for (float& v : xs) v = nd(rng);
    const vk::BufferSpan ids_s = arena.allocate(uint64_t{P} * 4);
    ctx.transfer().upload(ids_s, std::as_bytes(std::span(ids)));
    const vk::BufferSpan x = arena.allocate(xs.size() * 4);
    ctx.transfer().upload(x, std::as_bytes(std::span(xs)));
    const vk::BufferSpan y = arena.allocate(uint64_t{s.N} * P * 4);

    ops::MatVecIdArgs v;
    v.weight = {&w, type, s.K, static_cast<uint32_t>(rows)};
    v.n_rows = s.N;
    v.n_experts = s.E;
    v.ids = ids_s;
    v.ids_stride = s.k;
    v.n_used = s.k;
    v.n_tokens = T;
    v.x = x;
    v.x_stride = s.K;
    v.y = y;
    v.y_stride = s.N;
    ops::MatMulIdArgs m;
    static_cast<ops::MatVecIdArgs&>(m) = v;
    m.groups = arena.allocate(ops::moe_groups_bytes(s.E, s.k, T));

    vk::CommandStream cs(ctx.device(), 4 * static_cast<uint32_t>(repeat) + 8);
    std::vector<double> mv, mm;
    warm_up(ctx, [&](vk::CommandStream& stream, uint32_t) {
        ops::record_matvec_id(ctx, stream, v);
        ops::record_matmul_id(ctx, stream, m);
    });
    for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches right before the timed pass
        cs.begin();
        std::vector<uint32_t> marks;
        for (int i = 0; i < repeat; ++i) {
            marks.push_back(cs.timestamp());
            ops::record_matvec_id(ctx, cs, v);  // WAW on y: each call waits for the previous one
            marks.push_back(cs.timestamp());
            ops::record_matmul_id(ctx, cs, m);
        }
        marks.push_back(cs.timestamp());
        cs.submit_and_wait();
        if (pass == 0) continue;
        for (int i = 0; i < repeat; ++i) {
            mv.push_back(cs.elapsed_ns(marks[2 * i], marks[2 * i + 1]) / 1e3);
            mm.push_back(cs.elapsed_ns(marks[2 * i + 1], marks[2 * i + 2]) / 1e3);
        }
    }
    return ExpertResult{summarize(mv), summarize(mm)};
}

}  // namespace vkllm::bench
