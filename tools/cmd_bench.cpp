// `vkllm bench ops` (bench/bench_ops.h) and `vkllm bench model` (bench/model_bench.h).

#include "bench/bench_ops.h"
#include "bench/model_bench.h"
#include "runtime/model/gemma4_model.h"
#include "tools/commands.h"
#include "tools/load_progress.h"

namespace vkllm::cli {

int cmd_bench_ops(const bench::OpsBenchOptions& options) {
    return bench::run_ops_bench(options);
}

int cmd_bench_model(const bench::ModelBenchOptions& options) {
    bench::ModelBenchOptions o = options;
    ModelOptions reporting;
    report_load_on_stderr(reporting);
    o.on_plan = reporting.on_plan;
    o.on_upload = reporting.on_upload;
    return bench::run_model_bench(o);
}

}  // namespace vkllm::cli
