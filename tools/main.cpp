// vkllm: command-line entry. A usage error (unknown command or option, missing or bad value)
// ends as the message and the command's usage on stderr with exit code 2; an error from a
// command as "vkllm CMD: error: ..." with exit code 1. Nothing below main() calls exit().

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/subcommands.h"

namespace {

// The invocation as typed, for benchmark records.
std::string command_line(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) line += (i ? " " : "") + std::string(argv[i]);
    return line;
}

// "run", "bench model": the path of a subcommand below the root.
std::string command_name(const CLI::App& app) {
    std::string name = app.get_name();
    for (const CLI::App* p = app.get_parent(); p && p->get_parent(); p = p->get_parent()) {
        name = p->get_name() + " " + name;
    }
    return name;
}

// The deepest subcommand the parse reached, or the root: the one whose usage an error shows.
const CLI::App& reached(const CLI::App& root) {
    const CLI::App* app = &root;
    while (!app->get_subcommands().empty()) app = app->get_subcommands().front();
    return *app;
}

int usage_error(const CLI::App& root, const CLI::ParseError& e, const std::string& first_arg) {
    const CLI::App& app = reached(root);
    std::string message = e.what();
    if (&app == &root && !first_arg.empty() && first_arg[0] != '-') {
        // CLI11 reports a word that is no command as a missing command.
        message = "unknown command '" + first_arg + "'";
    } else if ((dynamic_cast<const CLI::RequiredError*>(&e) ||
                dynamic_cast<const CLI::ExtrasError*>(&e)) &&
               !app.remaining().empty()) {
        // CLI11 checks for required options before it reports the words it could not use, but a
        // mistyped option name explains both; and its own list is in reverse order.
        std::vector<std::string> extra = app.remaining();
        std::reverse(extra.begin(), extra.end());  // ExtrasError reverses them again
        message = CLI::ExtrasError(extra).what();
    }
    const std::string name = &app == &root ? "vkllm" : "vkllm " + command_name(app);
    std::fprintf(stderr, "%s: error: %s\n\n%s", name.c_str(), message.c_str(), root.help().c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App root("vkllm: Gemma 4 inference on Vulkan", "vkllm");
    // Set before any subcommand exists, so all inherit them: --help shows every default, and an
    // option given twice keeps the last value.
    root.option_defaults()->always_capture_default()->multi_option_policy(
        CLI::MultiOptionPolicy::TakeLast);
    root.require_subcommand(1);
    root.get_formatter()->column_width(36);
    const std::vector<vkllm::cli::Command> commands =
        vkllm::cli::add_commands(root, command_line(argc, argv));
    root.footer("Run 'vkllm <command> --help' for the options of a command.");  // root only

    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (!args.empty() && args.front() == "help") {  // `vkllm help [COMMAND]`
        args.erase(args.begin());
        args.push_back("--help");
    }
    const std::string first_arg = args.empty() ? "" : args.front();
    std::reverse(args.begin(), args.end());  // CLI11 takes the words last first
    try {
        root.parse(args);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != 0) return usage_error(root, e, first_arg);
        std::fputs(root.help().c_str(), stdout);  // --help
        return 0;
    }
    for (const vkllm::cli::Command& c : commands) {
        if (!c.app->parsed()) continue;
        try {
            return c.run();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "vkllm %s: error: %s\n", command_name(*c.app).c_str(), e.what());
            return 1;
        }
    }
    return 2;  // unreachable: the parse requires a command
}
