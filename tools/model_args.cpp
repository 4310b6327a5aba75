#include "tools/model_args.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tools/load_progress.h"

namespace vkllm::cli {

std::string resolve_model_path(const std::string& given) {
    if (!given.empty()) return given;
    std::string path = VKLLM_DEFAULT_MODEL;
    std::string how = "the default model";
    if (const char* env = std::getenv("VKLLM_MODEL"); env != nullptr && *env != '\0') {
        path = env;
        how = "VKLLM_MODEL";
    }
    if (!std::filesystem::is_regular_file(path)) {
        throw std::runtime_error("no model: -m was not given and " + how + " (" + path +
                                 ") is not a file; pass -m FILE or set VKLLM_MODEL");
    }
    return path;
}

std::unique_ptr<LoadedModel> open_model(const ModelArgs& args) {
    vk::ContextOptions context_options;
    context_options.device = args.device;
    ModelOptions options = args.options;
    report_load_on_stderr(options);
    return LoadedModel::open(resolve_model_path(args.path), context_options, options);
}

}  // namespace vkllm::cli
