#include "tools/model_args.h"

#include "tools/cli_generation.h"
#include "tools/cli_text.h"
#include "tools/load_progress.h"

namespace vkllm::cli {

ModelOptions model_options_from_args(const Args& args, uint32_t default_ctx) {
    ModelOptions o;
    o.n_ctx = static_cast<uint32_t>(integer_option(args, "--ctx", default_ctx, 0, UINT32_MAX));
    o.n_seq = 1;
    if (const auto k = args.get("--kv-k")) o.kv_k = parse_kv_type(*k);
    if (const auto v = args.get("--kv-v")) o.kv_v = parse_kv_type(*v);
    report_load_on_stderr(o);
    return o;
}

std::unique_ptr<LoadedModel> open_model_from_args(const Args& args, uint32_t default_ctx) {
    vk::ContextOptions context_options;
    context_options.device = args.get_or("--device", "");
    return LoadedModel::open(model_path(args), context_options,
                             model_options_from_args(args, default_ctx));
}

}  // namespace vkllm::cli
