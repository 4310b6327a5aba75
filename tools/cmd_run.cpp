// `vkllm run -m MODEL -p TEXT [-n N] [sampling options] [--chat] [--think]`: one generation.
// The prompt is used raw with a BOS in front (control-token texts such as "<|turn>" become their
// ids), or with --chat as a single user turn through the chat template. The text streams to
// stdout exactly as generated; the seed and the timing go to stderr.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/generate/chat_prompt.h"
#include "runtime/model/gemma4_sequence.h"
#include "tools/cli_generation.h"
#include "tools/cli_output.h"
#include "tools/cli_text.h"
#include "tools/commands.h"
#include "tools/model_args.h"

namespace vkllm::cli {
namespace {

std::vector<int32_t> prompt_ids(const RunArgs& args, const Tokenizer& tokenizer) {
    const std::string text = args.prompt ? *args.prompt : read_all(stdin);
    if (!args.chat) return tokenizer.encode(text, /*add_bos=*/true, /*parse_special=*/true);
    const nlohmann::json conversation = {
        {"messages", nlohmann::json::array({{{"role", "user"}, {"content", text}}})},
        {"add_generation_prompt", true},
        {"enable_thinking", args.think}};
    return encode_chat_prompt(tokenizer, conversation);
}

}  // namespace

int cmd_run(const RunArgs& args) {
    const GenerationParams params = generation_params(args.generation, random_seed());

    auto loaded = open_model(args.model);
    const std::vector<int32_t> prompt = prompt_ids(args, loaded->tokenizer);
    std::fprintf(stderr, "prompt %zu tokens, seed %llu\n", prompt.size(),
                 static_cast<unsigned long long>(params.sampling.seed));

    Gemma4Sequence sequence(*loaded->model, 0);
    Generator generator(sequence, loaded->tokenizer);
    const GenerationResult result = generator.generate(prompt, params, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    });
    std::fprintf(stderr, "\n");
    print_timing(result);
    print_expert_cache(*loaded->model);
    return 0;
}

}  // namespace vkllm::cli
