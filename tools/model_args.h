#pragma once
// The model a command loads: -m and the model options --ctx, --kv-k, --kv-v, --device (declared
// in subcommands.cpp), and loading it with the plan and upload progress on stderr.

#include <memory>
#include <string>

#include "runtime/model/loaded_model.h"

namespace vkllm::cli {

struct ModelArgs {
    std::string path;      // -m: the GGUF file
    std::string device;    // --device: an index from `vkllm devices` or part of a name; "": best
    ModelOptions options;  // --ctx, --kv-k, --kv-v; the command sets the rest (n_seq, ...)
};

// The model a command runs: `given` (-m), or without it $VKLLM_MODEL, or the trained demo model
// of this source tree (models/README.md). Throws std::runtime_error naming the file and how it
// was chosen when it does not exist.
std::string resolve_model_path(const std::string& given);

std::unique_ptr<LoadedModel> open_model(const ModelArgs& args);

}  // namespace vkllm::cli
