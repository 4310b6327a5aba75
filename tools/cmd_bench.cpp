// `vkllm bench ops`: see bench/bench_ops.h.

#include <sstream>
#include <stdexcept>

#include "bench/bench_ops.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

}  // namespace

int cmd_bench(const Args& args) {
    const auto& pos = args.positional();
    if (pos.empty() || pos[0] != "ops") {
        throw std::invalid_argument(
            "usage: vkllm bench ops [--device N|name] [--repeat N] [--ncols N] [--types q4_K,q8_0] "
            "[--shapes 5376x21504,...] [--out DIR]");
    }
    args.allow_only({"--device", "--repeat", "--ncols", "--types", "--shapes", "--out"});
    bench::OpsBenchOptions o;
    o.device = args.get_or("--device", "");
    o.repeat = std::stoi(args.get_or("--repeat", "20"));
    o.ncols = static_cast<uint32_t>(std::stoul(args.get_or("--ncols", "1")));
    if (o.repeat < 1 || o.ncols < 1 || o.ncols > 8) {
        throw std::invalid_argument("--repeat must be >= 1 and --ncols 1..8");
    }
    o.types = split_list(args.get_or("--types", ""));
    o.shapes = split_list(args.get_or("--shapes", ""));
    o.out_dir = args.get_or("--out", "bench-results");
    o.command_line = args.command_line();
    return bench::run_ops_bench(o);
}

}  // namespace vkllm::cli
