#pragma once
// Minimal flag parsing shared by the vkllm subcommands: "--name value", "--flag", positionals.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vkllm::cli {

class Args {
  public:
    // `flags` lists the options that take no value (e.g. "--json").
    Args(int argc, char** argv, int first, std::vector<std::string> flags);

    std::optional<std::string> get(const std::string& name) const;
    std::string get_or(const std::string& name, const std::string& fallback) const;
    bool has(const std::string& name) const;
    // Every value of an option that may repeat (e.g. --stop), in command-line order.
    std::vector<std::string> get_all(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }
    // The invocation as typed (for benchmark records).
    const std::string& command_line() const { return command_line_; }
    // Throws std::invalid_argument naming the first option not in `known`.
    void allow_only(const std::vector<std::string>& known) const;

  private:
    std::map<std::string, std::string> values_;  // last value of each option
    std::vector<std::pair<std::string, std::string>> all_values_;
    std::vector<std::string> positional_;
    std::string command_line_;
};

}  // namespace vkllm::cli
