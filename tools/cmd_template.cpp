// `vkllm template -m MODEL`: the prompt the Gemma 4 chat template renders for the request on stdin
// ({"messages": [...], "add_generation_prompt": bool, "enable_thinking": bool, "tools": [...]}),
// written exactly, without a trailing newline.

#include <cstdio>

#include "loader/gguf_file.h"
#include "tools/cli_text.h"
#include "tools/commands.h"

namespace vkllm::cli {

int cmd_template(const TemplateArgs& args) {
    // The renderer is built in; the file only has to be a Gemma 4 one for its output to apply.
    const std::string& path = args.model;
    const GgufFile file = GgufFile::open(path);
    const auto model = file.find_string("tokenizer.ggml.model");
    if (model != "gemma4") {
        throw std::invalid_argument(path + ": tokenizer.ggml.model is '" +
                                    std::string(model.value_or("(missing)")) +
                                    "', but the built-in chat template is Gemma 4's");
    }
    const std::string prompt = render_template_request(read_all(stdin));
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    return 0;
}

}  // namespace vkllm::cli
