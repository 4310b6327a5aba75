#include "tools/model_args.h"

#include "tools/load_progress.h"

namespace vkllm::cli {

std::unique_ptr<LoadedModel> open_model(const ModelArgs& args) {
    vk::ContextOptions context_options;
    context_options.device = args.device;
    ModelOptions options = args.options;
    report_load_on_stderr(options);
    return LoadedModel::open(args.path, context_options, options);
}

}  // namespace vkllm::cli
