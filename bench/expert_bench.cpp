#include "bench/expert_bench.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "bench/matvec_bench.h"
#include "bench/warm_up.h"
#include "runtime/ops/matmul_id.h"
#include "runtime/ops/matvec.h"
#include "runtime/ops/quantize_q8.h"
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

    // The integer expert mat-vec on x quantized once (outside the timing, as the model does).
    const bool with_int = ctx.device().info().int_dot && ops::has_int_dot_kernel(type);
    ops::MatVecIdArgs vi = v;
    ops::MatVecIdArgs vg = v;  // gated: F = N / 2 outputs per pair, and their q8_1 form
    std::optional<vk::BufferSpan> gated_q8;
    if (with_int) {
        vi.xq = quantize_once(ctx, arena, x, s.K, T);
        vi.path = ops::MatVecPath::IntDot;
        vg = vi;
        vg.y = arena.allocate(uint64_t{s.N / 2} * P * 4);
        vg.y_stride = s.N / 2;
        if ((s.N / 2) % 32 == 0) gated_q8 = arena.allocate(ops::q8_1_bytes(s.N / 2, P));
    }
    const auto record_all = [&](vk::CommandStream& stream, std::vector<uint32_t>* marks) {
        const auto mark = [&] {
            if (marks) marks->push_back(stream.timestamp());
        };
        mark();
        ops::record_matvec_id(ctx, stream, v);  // WAW on y: each call waits for the previous one
        mark();
        ops::record_matmul_id(ctx, stream, m);
        if (with_int) {
            mark();
            ops::record_matvec_id(ctx, stream, vi);
            mark();
            ops::record_matvec_id_glu(ctx, stream, vg, gated_q8);
        }
    };
    warm_up(ctx, [&](vk::CommandStream& stream, uint32_t) { record_all(stream, nullptr); });
    const uint32_t ops_per_call = with_int ? 4 : 2;
    vk::CommandStream cs(ctx.device(), (ops_per_call + 1) * static_cast<uint32_t>(repeat) + 8);
    std::vector<double> mv, mm, mi, mg;
    for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches right before the timed pass
        cs.begin();
        std::vector<uint32_t> marks;
        for (int i = 0; i < repeat; ++i) record_all(cs, &marks);
        marks.push_back(cs.timestamp());
        cs.submit_and_wait();
        if (pass == 0) continue;
        for (int i = 0; i < repeat; ++i) {
            const size_t b = static_cast<size_t>(i) * ops_per_call;
            mv.push_back(cs.elapsed_ns(marks[b], marks[b + 1]) / 1e3);
            mm.push_back(cs.elapsed_ns(marks[b + 1], marks[b + 2]) / 1e3);
            if (with_int) {
                mi.push_back(cs.elapsed_ns(marks[b + 2], marks[b + 3]) / 1e3);
                mg.push_back(cs.elapsed_ns(marks[b + 3], marks[b + 4]) / 1e3);
            }
        }
    }
    ExpertResult r{summarize(mv), summarize(mm), std::nullopt, std::nullopt};
    if (with_int) {
        r.matvec_int_us = summarize(mi);
        r.gated_int_us = summarize(mg);
    }
    return r;
}

}  // namespace vkllm::bench
