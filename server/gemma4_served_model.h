#pragma once
// The real model behind the server: a LoadedModel (GGUF, tokenizer, Vulkan context, Gemma4Model
// with one sequence per slot) exposed as a ServedModel / BatchModel. Kept out of vkllm_server so
// the HTTP stack and its tests build without the Vulkan runtime.

#include <memory>

#include "runtime/model/loaded_model.h"
#include "server/server_app.h"

namespace vkllm::server {

std::unique_ptr<ServedModel> make_gemma4_served_model(std::unique_ptr<LoadedModel> loaded);

}  // namespace vkllm::server
