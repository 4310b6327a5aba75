#pragma once
// Everything a command needs to use one model file: the mapped GGUF, its tokenizer, a Vulkan
// context and the model on it. The CLI (run, chat, score) and the server hold one of these.

#include <filesystem>
#include <memory>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/vk/context.h"

namespace vkllm {

struct LoadedModel {
    std::filesystem::path path;
    GgufFile file;
    Tokenizer tokenizer;
    std::unique_ptr<vk::Context> context;
    std::unique_ptr<Gemma4Model> model;

    // Opens the file, reads the tokenizer, creates the context and uploads the model. Throws
    // ModelFileError / UnsupportedDeviceError / std::runtime_error with a message for the user.
    static std::unique_ptr<LoadedModel> open(const std::filesystem::path& path,
                                             const vk::ContextOptions& context_options,
                                             const ModelOptions& model_options);
};

}  // namespace vkllm
