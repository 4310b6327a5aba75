// `vkllm bench ops` (bench/bench_ops.h) and `vkllm bench model` (bench/model_bench.h).

#include <sstream>
#include <stdexcept>

#include "bench/bench_ops.h"
#include "bench/model_bench.h"
#include "runtime/model/gemma4_model.h"
#include "tools/cli_generation.h"
#include "tools/commands.h"
#include "tools/load_progress.h"

namespace vkllm::cli {
namespace {

constexpr const char* k_usage =
    "usage: vkllm bench ops [--device N|name] [--repeat N] [--ncols N] [--types q4_K,q8_0] "
    "[--shapes 5376x21504,...] [--out DIR]\n"
    "       vkllm bench model -m MODEL [--device N|name] [--prompt N] [--gen N] "
    "[--batches 1,2,4,8] [--ctx N] [--chunk N] [--kv-k TYPE] [--kv-v TYPE] [--out DIR]";

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

// A count option in [1, 2^24] (or `fallback`); the message names the option.
uint32_t positive(const Args& args, const std::string& name, uint32_t fallback) {
    return static_cast<uint32_t>(integer_option(args, name, fallback, 1, int64_t{1} << 24));
}

int bench_ops(const Args& args) {
    args.allow_only({"--device", "--repeat", "--ncols", "--types", "--shapes", "--out"});
    bench::OpsBenchOptions o;
    o.device = args.get_or("--device", "");
    o.repeat = static_cast<int>(positive(args, "--repeat", 20));
    o.ncols = positive(args, "--ncols", 1);
    if (o.ncols > 8) throw std::invalid_argument("--ncols must be 1..8");
    o.types = split_list(args.get_or("--types", ""));
    o.shapes = split_list(args.get_or("--shapes", ""));
    o.out_dir = args.get_or("--out", "bench-results");
    o.command_line = args.command_line();
    return bench::run_ops_bench(o);
}

int bench_model(const Args& args) {
    args.allow_only({"-m", "--model", "--device", "--prompt", "--gen", "--batches", "--ctx",
                     "--chunk", "--kv-k", "--kv-v", "--repeat", "--out"});
    bench::ModelBenchOptions o;
    o.model = args.get_or("-m", args.get_or("--model", ""));
    if (o.model.empty()) throw std::invalid_argument("bench model needs -m MODEL");
    o.device = args.get_or("--device", "");
    o.prompt_tokens = positive(args, "--prompt", 128);
    o.gen_tokens = positive(args, "--gen", 32);
    if (o.gen_tokens < 2) throw std::invalid_argument("--gen must be at least 2");
    o.batches.clear();
    for (const std::string& b : split_list(args.get_or("--batches", "1,2,4,8"))) {
        o.batches.push_back(static_cast<uint32_t>(std::stoul(b)));
        if (o.batches.back() == 0 || o.batches.back() > 64) {
            throw std::invalid_argument("--batches sizes must be 1..64, got " + b);
        }
    }
    if (args.get("--ctx")) o.n_ctx = positive(args, "--ctx", 0);
    o.prefill_chunk = positive(args, "--chunk", 512);
    o.kv_k = parse_kv_type(args.get_or("--kv-k", "f16"));
    o.kv_v = parse_kv_type(args.get_or("--kv-v", "f16"));
    o.repeat = static_cast<int>(positive(args, "--repeat", 5));
    o.out_dir = args.get_or("--out", "bench-results");
    o.command_line = args.command_line();
    ModelOptions reporting;
    report_load_on_stderr(reporting);
    o.on_plan = reporting.on_plan;
    o.on_upload = reporting.on_upload;
    return bench::run_model_bench(o);
}

}  // namespace

int cmd_bench(const Args& args) {
    const auto& pos = args.positional();
    if (!pos.empty() && pos[0] == "ops") return bench_ops(args);
    if (!pos.empty() && pos[0] == "model") return bench_model(args);
    throw std::invalid_argument(k_usage);
}

}  // namespace vkllm::cli
