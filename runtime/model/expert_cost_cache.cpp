#include "runtime/model/expert_cost_cache.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "runtime/vk/pipeline.h"

namespace vkllm {

namespace {

std::optional<std::filesystem::path> costs_file() {
    const std::filesystem::path dir = vk::default_cache_dir();
    if (dir.empty() || dir == "none") return std::nullopt;
    return dir / "expert-costs.txt";
}

// "key\tupload\tfixed\tper_token"; the key has no tab.
std::optional<std::pair<std::string, ExpertCache::CpuCost>> parse(const std::string& line) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return std::nullopt;
    std::istringstream in(line.substr(tab + 1));
    ExpertCache::CpuCost c;
    if (!(in >> c.upload_per_byte >> c.cpu_fixed_per_byte >> c.cpu_per_byte_token)) {
        return std::nullopt;
    }
    if (!(c.upload_per_byte > 0) || c.cpu_fixed_per_byte < 0 || c.cpu_per_byte_token < 0) {
        return std::nullopt;  // a damaged line is measured again
    }
    return std::pair{line.substr(0, tab), c};
}

}  // namespace

std::optional<ExpertCache::CpuCost> load_expert_costs(const std::string& key) {
    const std::optional<std::filesystem::path> path = costs_file();
    if (!path) return std::nullopt;
    std::ifstream in(*path);
    std::string line;
    while (std::getline(in, line)) {
        if (const auto kv = parse(line); kv && kv->first == key) return kv->second;
    }
    return std::nullopt;
}

void save_expert_costs(const std::string& key, const ExpertCache::CpuCost& cost) {
    const std::optional<std::filesystem::path> path = costs_file();
    if (!path) return;
    std::vector<std::string> lines;
    {
        std::ifstream in(*path);
        std::string line;
        while (std::getline(in, line)) {
            if (const auto kv = parse(line); kv && kv->first != key) lines.push_back(line);
        }
    }
    std::ostringstream row;
    row.precision(9);
    row << key << '\t' << cost.upload_per_byte << ' ' << cost.cpu_fixed_per_byte << ' '
        << cost.cpu_per_byte_token;
    lines.push_back(row.str());
    std::error_code ec;
    std::filesystem::create_directories(path->parent_path(), ec);
    const std::filesystem::path tmp = path->string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const std::string& l : lines) out << l << '\n';
        if (!out) return;
    }
    std::filesystem::rename(tmp, *path, ec);  // whole file or none
}

}  // namespace vkllm
