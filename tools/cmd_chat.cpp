// `vkllm chat -m MODEL [run's options] [--system TEXT] [--think]`: an interactive conversation on
// stdin/stdout. Each line is a user turn; the answer streams to stdout. The KV cache is kept
// between turns: only the part of the re-rendered conversation that the cache does not already
// hold is prefilled. /reset starts over, /exit (or end of input) ends.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/generate/chat_prompt.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/gemma4_sequence.h"
#include "tools/cli_generation.h"
#include "tools/cli_output.h"
#include "tools/commands.h"
#include "tools/model_args.h"

namespace vkllm::cli {
namespace {

constexpr const char* k_help =
    "commands: /reset (forget the conversation), /exit or /quit (or end of input), /help\n";

struct Conversation {
    std::string system;
    bool thinking = false;
    nlohmann::json messages = nlohmann::json::array();

    void reset() {
        messages = nlohmann::json::array();
        if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    }
    nlohmann::json request() const {
        return {
            {"messages", messages}, {"add_generation_prompt", true}, {"enable_thinking", thinking}};
    }
};

void print_prompt_marker(bool interactive) {
    if (!interactive) return;
    std::fprintf(stderr, "> ");
    std::fflush(stderr);
}

// One user turn: generate, stream, and keep the answer in the conversation. A turn that does not
// fit the context is dropped again so the conversation stays usable.
void chat_turn(Conversation& conv, Generator& generator, const Tokenizer& tokenizer,
               const GenerationParams& params, const std::string& line) {
    conv.messages.push_back({{"role", "user"}, {"content", line}});
    try {
        const std::vector<int32_t> prompt = encode_chat_prompt(tokenizer, conv.request());
        const GenerationResult result =
            generator.generate(prompt, params, [](std::string_view text) {
                std::fwrite(text.data(), 1, text.size(), stdout);
                std::fflush(stdout);
            });
        std::fprintf(stdout, "\n");
        std::fflush(stdout);
        print_timing(result);
        conv.messages.push_back({{"role", "assistant"}, {"content", result.text}});
    } catch (const ContextOverflowError& e) {
        conv.messages.erase(conv.messages.size() - 1);
        std::fprintf(stderr, "error: %s (use /reset to start over)\n", e.what());
    }
}

}  // namespace

int cmd_chat(const ChatArgs& args) {
    const GenerationParams params = generation_params(args.generation, random_seed());

    auto loaded = open_model(args.model);
    Gemma4Sequence sequence(*loaded->model, 0);
    Generator generator(sequence, loaded->tokenizer);
    Conversation conv;
    conv.system = args.system;
    conv.thinking = args.think;
    conv.reset();

    const bool interactive = isatty(STDIN_FILENO) != 0;
    if (interactive) std::fprintf(stderr, "%s", k_help);
    std::string line;
    print_prompt_marker(interactive);
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "/exit" || line == "/quit") break;
        if (line == "/reset") {
            conv.reset();
            std::fprintf(stderr, "conversation cleared\n");
        } else if (line == "/help") {
            std::fprintf(stderr, "%s", k_help);
        } else if (!line.empty() && line[0] == '/') {
            std::fprintf(stderr, "unknown command %s\n%s", line.c_str(), k_help);
        } else if (!line.empty()) {
            chat_turn(conv, generator, loaded->tokenizer, params, line);
            print_expert_cache(*loaded->model);
        }
        print_prompt_marker(interactive);
    }
    return 0;
}

}  // namespace vkllm::cli
