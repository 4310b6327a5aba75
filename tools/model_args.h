#pragma once
// Loading the model for run / chat / score: -m MODEL, --ctx N, --kv-k TYPE, --kv-v TYPE,
// --device N|name.

#include <cstdint>
#include <memory>

#include "runtime/model/loaded_model.h"
#include "tools/cli_args.h"

namespace vkllm::cli {

// `default_ctx` is used when --ctx is absent (0: the model's default).
ModelOptions model_options_from_args(const Args& args, uint32_t default_ctx);

// Opens the model named by -m with the options above, upload progress on stderr.
std::unique_ptr<LoadedModel> open_model_from_args(const Args& args, uint32_t default_ctx = 0);

}  // namespace vkllm::cli
