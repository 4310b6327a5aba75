#include "bench/bench_ops.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_record.h"
#include "bench/copy_bandwidth.h"
#include "bench/expert_bench.h"
#include "bench/gated_bench.h"
#include "bench/matvec_bench.h"
#include "runtime/ops/matvec.h"
#include "runtime/vk/context.h"

namespace vkllm::bench {
namespace {

// Gemma 4 decode shapes (K x N in GGUF order): 31B FFN up/gate and down, a 26B-A4B expert-sized
// projection, and the 262k-vocab LM head at the 26B width.
// The decode mat-vecs of the released sizes (gemma4-model.md §1.5: K = input width, N = rows),
// each shape once, labelled with the tensors that have it. Routed experts are timed through the
// real MoE path (bench_expert_ffn); the shared-MLP shapes of 26B-A4B are here.
const std::vector<MatVecShape> k_default_shapes = {
    {5376, 21504, "31B ffn_gate/up"},
    {21504, 5376, "31B ffn_down"},
    {5376, 8192, "31B attn_q (sliding)"},
    {5376, 16384, "31B attn_q (full)"},
    {5376, 4096, "31B attn_k/v (sliding)"},
    {8192, 5376, "31B attn_output (sliding)"},
    {5376, 262144, "31B LM head"},
    {3840, 15360, "12B ffn_gate/up"},
    {15360, 3840, "12B ffn_down"},
    {3840, 262144, "12B LM head"},
    {2816, 2112, "26B-A4B shared ffn_gate/up"},
    {2112, 2816, "26B-A4B shared ffn_down"},
    {2816, 4096, "26B-A4B attn_q (sliding)"},
    {2816, 2048, "26B-A4B attn_k/v (sliding)"},
    {2816, 262144, "26B-A4B LM head"},
    {2560, 10240, "E4B ffn_gate/up"},
    {10240, 2560, "E4B ffn_down"},
    {2560, 262144, "E4B LM head"},
};

const std::vector<GgmlType> k_types = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

MatVecShape parse_shape(const std::string& s) {
    const auto x = s.find('x');
    if (x == std::string::npos) throw std::invalid_argument("shape '" + s + "' is not KxN");
    return {static_cast<uint32_t>(std::stoul(s.substr(0, x))),
            static_cast<uint32_t>(std::stoul(s.substr(x + 1))),
            {}};
}

// Prefill expert mat-vec vs grouped mat-mat at the 26B-A4B gate_up shape (2816 x 2 * 704 x 128
// experts, 8 per token), q4_K, by chunk size. GPUs only: lavapipe takes minutes per call.
void bench_expert_ffn(vk::Context& ctx, const std::vector<GgmlType>& types, int repeat,
                      BenchRecord& record) {
    constexpr GgmlType type = GgmlType::Q4_K;
    if (std::find(types.begin(), types.end(), type) == types.end()) return;
    const ExpertShape shape{2816, 1408, 128, 8};
    std::printf("\nexpert gate_up K=%u N=%u E=%u k=%u (26B-A4B), q4_K, median of %d calls\n",
                shape.K, shape.N, shape.E, shape.k, repeat);
    if (ctx.device().info().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        std::printf("(skipped on a CPU device)\n");
        return;
    }
    std::printf("%-7s %14s %14s %8s %18s %16s\n", "tokens", "matvec_id us", "matmul_id us",
                "speedup", "int8 matvec_id us", "int8 gated us");
    for (const uint32_t T : {8u, 32u, 128u, 512u}) {
        const auto r = bench_experts(ctx, type, shape, T, repeat);
        if (!r) {
            std::printf("%-7u (does not fit in device memory)\n", T);
            return;
        }
        const double int_us = r->matvec_int_us ? r->matvec_int_us->median : 0.0;
        const double gated_us = r->gated_int_us ? r->gated_int_us->median : 0.0;
        std::printf("%-7u %14.1f %14.1f %7.2fx %18.1f %16.1f\n", T, r->matvec_us.median,
                    r->matmul_us.median, r->matvec_us.median / r->matmul_us.median, int_us,
                    gated_us);
        std::fflush(stdout);
        nlohmann::json row = {{"op", "expert_gate_up"},
                              {"type", traits_of(type).name},
                              {"K", shape.K},
                              {"N", shape.N},
                              {"experts", shape.E},
                              {"used", shape.k},
                              {"tokens", T},
                              {"matvec_id_us_median", r->matvec_us.median},
                              {"matmul_id_us_median", r->matmul_us.median},
                              {"matvec_id_us_min", r->matvec_us.min},
                              {"matmul_id_us_min", r->matmul_us.min}};
        if (r->matvec_int_us) {
            row["matvec_id_int8_us_median"] = r->matvec_int_us->median;
            row["matvec_id_int8_us_min"] = r->matvec_int_us->min;
        }
        if (r->gated_int_us) row["gated_int8_us_median"] = r->gated_int_us->median;
        record.write(row);
    }
}

// One mat-vec case: its table row and record.
void bench_matvec_case(vk::Context& ctx, GgmlType t, const MatVecShape& s, const std::string& shape,
                       const MatVecVariant& v, const OpsBenchOptions& options, double roofline,
                       BenchRecord& record) {
    const vk::DeviceInfo& info = ctx.device().info();
    const uint32_t rows = ops::matvec_layout(info, v.rows_per_subgroup).rows_per_subgroup;
    const char* path_name = v.path == ops::MatVecPath::IntDot ? "int8" : "fp32";
    const auto r = bench_matvec(ctx, t, s, options.ncols, options.repeat, v);
    const std::string name(traits_of(t).name);
    if (!r) {
        std::printf("%-6s %-5s %-4u %-5u %-14s %10s (does not fit in device memory)  %s\n",
                    name.c_str(), path_name, rows, v.split_k, shape.c_str(), "-", s.label.c_str());
        return;
    }
    const double frac = roofline > 0 ? r->gbps.median / roofline : 0;
    std::printf("%-6s %-5s %-4u %-5u %-14s %10.1f %10.1f %8.0f%% %7u  %s\n", name.c_str(),
                path_name, rows, v.split_k, shape.c_str(), r->us.median, r->gbps.median, 100 * frac,
                r->copies, s.label.c_str());
    std::fflush(stdout);
    record.write({{"op", "matvec"},
                  {"type", traits_of(t).name},
                  {"path", path_name},
                  {"rows_per_subgroup", rows},
                  {"split_k", v.split_k},
                  {"K", s.K},
                  {"N", s.N},
                  {"tensors", s.label},
                  {"ncols", options.ncols},
                  {"bytes", r->bytes_per_call},
                  {"weight_copies", r->copies},
                  {"us_median", r->us.median},
                  {"us_min", r->us.min},
                  {"us_max", r->us.max},
                  {"gbps_median", r->gbps.median},
                  {"fraction_of_copy", frac}});
}

// The decode MLP's gate, up and GELU-GLU on the integer path: one gated mat-vec against the
// three dispatches it replaces, at the dense FFN shapes of the released sizes.
void bench_gated(vk::Context& ctx, const std::vector<GgmlType>& types, int repeat, double roofline,
                 BenchRecord& record) {
    if (!ctx.device().info().int_dot) return;
    struct Shape {
        uint32_t K, F;
        const char* label;
    };
    const Shape shapes[] = {{5376, 21504, "31B ffn_gate+up"},
                            {3840, 15360, "12B ffn_gate+up"},
                            {2816, 2112, "26B-A4B shared gate+up"}};
    std::printf("\ngated mat-vec (gate, up, GELU-GLU, q8_1 out), int8, 1 column, median of %d\n",
                repeat);
    std::printf("%-6s %-14s %10s %12s %9s %8s  %s\n", "type", "K x F", "fused us", "separate us",
                "speedup", "of copy", "tensors");
    for (const Shape& s : shapes) {
        for (const GgmlType t : types) {
            const auto r = bench_gated_matvec(ctx, t, s.K, s.F, repeat);
            if (!r) continue;
            const double frac = roofline > 0 ? static_cast<double>(r->weight_bytes) /
                                                   (r->fused_us.median * 1e3) / roofline
                                             : 0;
            const std::string shape = std::to_string(s.K) + "x" + std::to_string(s.F);
            std::printf("%-6s %-14s %10.1f %12.1f %8.2fx %7.0f%%  %s\n",
                        std::string(traits_of(t).name).c_str(), shape.c_str(), r->fused_us.median,
                        r->separate_us.median, r->separate_us.median / r->fused_us.median,
                        100 * frac, s.label);
            std::fflush(stdout);
            record.write({{"op", "gated_matvec"},
                          {"type", traits_of(t).name},
                          {"K", s.K},
                          {"F", s.F},
                          {"tensors", s.label},
                          {"weight_bytes", r->weight_bytes},
                          {"weight_copies", r->copies},
                          {"fused_us_median", r->fused_us.median},
                          {"separate_us_median", r->separate_us.median},
                          {"fused_fraction_of_copy", frac}});
        }
    }
}

// The driver's statistics of every mat-vec and matmul pipeline the bench created (register
// counts and spills on drivers that report them), to tell spilling variants from slow ones.
void report_pipeline_statistics(vk::Context& ctx, BenchRecord& record) {
    if (!ctx.device().captures_pipeline_statistics()) {
        std::printf(
            "\npipeline statistics: not reported by this driver "
            "(VK_KHR_pipeline_executable_properties)\n");
        return;
    }
    std::printf("\npipeline statistics (driver-reported):\n");
    for (const vk::Pipeline* p : ctx.pipelines().all()) {
        const vk::PipelineDesc& d = p->desc();
        if (d.module.rfind("matvec", 0) != 0 && d.module.rfind("matmul", 0) != 0) continue;
        const std::vector<vk::PipelineStatistic> stats = p->statistics();
        std::string line;
        nlohmann::json values = nlohmann::json::object();
        for (const vk::PipelineStatistic& st : stats) {
            line += " " + st.name + "=" + st.value + ";";
            values[st.executable + ": " + st.name] = st.value;
        }
        std::printf("  %s:%s\n", d.key().c_str(), line.c_str());
        record.write(
            {{"op", "pipeline_statistics"}, {"pipeline", d.key()}, {"statistics", values}});
    }
}

}  // namespace

int run_ops_bench(const OpsBenchOptions& options) {
    vk::ContextOptions o;
    o.capture_pipeline_statistics = true;
    o.device = options.device;
    vk::Context ctx(std::move(o));
    const auto& info = ctx.device().info();
    std::vector<GgmlType> types;
    for (GgmlType t : k_types) {
        if (options.types.empty() || std::find(options.types.begin(), options.types.end(),
                                               traits_of(t).name) != options.types.end()) {
            types.push_back(t);
        }
    }
    std::vector<MatVecShape> shapes;
    for (const auto& s : options.shapes) shapes.push_back(parse_shape(s));
    if (shapes.empty()) shapes = k_default_shapes;

    BenchRecord record(options.out_dir, "ops", info, options.command_line);

    std::printf("device: %s (%s %s)\n", info.name.c_str(), info.driver_name.c_str(),
                vk::driver_version_string(info).c_str());
    const CopyBandwidth copies = measure_copy_bandwidth(ctx, options.repeat);
    for (const auto& [name, st] : {std::pair{"vkCmdCopyBuffer", copies.transfer},
                                   std::pair{"shader copy (16-byte)", copies.shader}}) {
        std::printf("copy bandwidth, %-22s read+write: median %7.1f GB/s (min %.1f, max %.1f)\n",
                    name, st.median, st.min, st.max);
        record.write({{"op", "copy"},
                      {"method", name},
                      {"gbps_median", st.median},
                      {"gbps_min", st.min},
                      {"gbps_max", st.max}});
    }
    const double roofline = copies.best_median();
    std::printf("roofline (best copy median): %.1f GB/s\n\n", roofline);

    std::printf(
        "mat-vec, %u activation column(s), median of %d calls; path fp32 = weights "
        "decoded to fp32, int8 = integer dot products on q8_1 activations\n",
        options.ncols, options.repeat);
    std::printf("%-6s %-5s %-4s %-5s %-14s %10s %10s %9s %7s  %s\n", "type", "path", "rows",
                "split", "K x N", "us", "GB/s", "of copy", "copies", "tensors");
    std::vector<uint32_t> row_choices = options.rows;
    if (row_choices.empty()) row_choices.push_back(0);
    std::vector<uint32_t> split_choices = options.splits;
    if (split_choices.empty()) split_choices.push_back(1);
    const uint32_t subgroups =
        ops::matvec_layout(info).workgroup / std::max(1u, info.subgroup_size);
    for (const MatVecShape& s : shapes) {
        for (GgmlType t : types) {
            const std::string shape = std::to_string(s.K) + "x" + std::to_string(s.N);
            if (s.K % traits_of(t).block_elems != 0) continue;
            std::vector<ops::MatVecPath> paths = {ops::MatVecPath::Float};
            if (info.int_dot && ops::has_int_dot_kernel(t)) {
                paths.push_back(ops::MatVecPath::IntDot);
            }
            for (ops::MatVecPath path : paths) {
                const bool int_dot = path == ops::MatVecPath::IntDot;
                for (uint32_t rows_choice : row_choices) {
                    for (uint32_t split : int_dot ? split_choices : std::vector<uint32_t>{1}) {
                        if ((split & (split - 1)) != 0 || split > subgroups) continue;
                        bench_matvec_case(ctx, t, s, shape, {path, rows_choice, split}, options,
                                          roofline, record);
                    }
                }
            }
        }
    }
    bench_gated(ctx, types, options.repeat, roofline, record);
    bench_expert_ffn(ctx, types, options.repeat, record);
    report_pipeline_statistics(ctx, record);
    std::printf("\nresults appended to %s\n", record.path().c_str());
    return 0;
}

}  // namespace vkllm::bench
