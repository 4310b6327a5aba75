#pragma once
// The vkllm command line: one CLI11 subcommand per command, each option declared once (in
// subcommands.cpp) with its default and range, parsed into the command's arguments (commands.h).

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vkllm::cli {

struct Command {
    CLI::App* app;             // the subcommand; owned by the root App
    std::function<int()> run;  // runs the command on the values parsed for it
};

// Adds every command to `root`, `vkllm bench ops` and `vkllm bench model` as one Command each.
// `command_line` (the invocation as typed) goes into benchmark records.
std::vector<Command> add_commands(CLI::App& root, const std::string& command_line);

}  // namespace vkllm::cli
