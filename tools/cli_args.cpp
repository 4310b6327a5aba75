#include "tools/cli_args.h"

#include <algorithm>
#include <stdexcept>

namespace vkllm::cli {

Args::Args(int argc, char** argv, int first, std::vector<std::string> flags) {
    for (int i = 0; i < argc; ++i) command_line_ += (i ? " " : "") + std::string(argv[i]);
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("-", 0) != 0 || a == "-") {
            positional_.push_back(a);
            continue;
        }
        std::pair<std::string, std::string> kv;
        if (auto eq = a.find('='); eq != std::string::npos) {
            kv = {a.substr(0, eq), a.substr(eq + 1)};
        } else if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
            kv = {a, "1"};
        } else if (i + 1 < argc) {
            kv = {a, argv[++i]};
        } else {
            throw std::invalid_argument("option " + a + " needs a value");
        }
        values_[kv.first] = kv.second;
        all_values_.push_back(std::move(kv));
    }
}

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
    return get(name).value_or(fallback);
}

bool Args::has(const std::string& name) const {
    return values_.count(name) != 0;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : all_values_) {
        if (k == name) out.push_back(v);
    }
    return out;
}

void Args::allow_only(const std::vector<std::string>& known) const {
    for (const auto& [k, v] : values_) {
        if (std::find(known.begin(), known.end(), k) == known.end()) {
            throw std::invalid_argument("unknown option " + k);
        }
    }
}

}  // namespace vkllm::cli
