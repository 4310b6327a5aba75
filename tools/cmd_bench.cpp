// `vkllm bench ops`: see bench/bench_ops.h.

#include <stdexcept>

#include "bench/bench_ops.h"
#include "tools/commands.h"

namespace vkllm::cli {

int cmd_bench(const Args& args) {
    const auto& pos = args.positional();
    if (pos.empty() || pos[0] != "ops") throw std::invalid_argument("usage: vkllm bench ops [--device N|name]");
    args.allow_only({"--device", "--validation", "--json", "--repeat", "--out"});
    bench::OpsBenchOptions o;
    o.device = args.get_or("--device", "");
    o.repeat = std::stoi(args.get_or("--repeat", "20"));
    o.out_dir = args.get_or("--out", "bench-results");
    return bench::run_ops_bench(o);
}

}  // namespace vkllm::cli
