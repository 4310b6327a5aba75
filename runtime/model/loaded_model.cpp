#include "runtime/model/loaded_model.h"

#include <utility>

namespace vkllm {

std::unique_ptr<LoadedModel> LoadedModel::open(const std::filesystem::path& path,
                                               const vk::ContextOptions& context_options,
                                               const ModelOptions& model_options) {
    GgufFile file = GgufFile::open(path);
    Tokenizer tokenizer = Tokenizer::from_gguf(file);
    auto context = std::make_unique<vk::Context>(context_options);
    auto m = std::unique_ptr<LoadedModel>(
        new LoadedModel{path, std::move(file), std::move(tokenizer), std::move(context), nullptr});
    // The model borrows the file and context in their final place.
    m->model = std::make_unique<Gemma4Model>(*m->context, m->file, model_options);
    return m;
}

}  // namespace vkllm
