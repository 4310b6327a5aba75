#include "bench/bench_record.h"

#include <cctype>
#include <ctime>
#include <filesystem>

#ifndef VKLLM_GIT_COMMIT
#define VKLLM_GIT_COMMIT "unknown"
#endif

namespace vkllm::bench {
namespace {

std::string slug(std::string s) {
    for (char& c : s) {
        c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
    }
    return s;
}

std::string today() {
    const std::time_t t = std::time(nullptr);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
    return buf;
}

}  // namespace

BenchRecord::BenchRecord(const std::string& out_dir, const std::string& kind,
                         const vk::DeviceInfo& device, const std::string& command_line) {
    std::filesystem::create_directories(out_dir);
    path_ = out_dir + "/" + today() + "_" + VKLLM_GIT_COMMIT + "_" + slug(device.name) + "_" +
            kind + ".jsonl";
    out_.open(path_, std::ios::app);
    if (!out_) throw std::runtime_error("cannot open " + path_ + " for writing");
    common_ = {
        {"device", device.name},          {"vendor_id", device.vendor_id},
        {"driver", device.driver_name},   {"driver_version", vk::driver_version_string(device)},
        {"git_commit", VKLLM_GIT_COMMIT}, {"command", command_line}};
}

void BenchRecord::write(const nlohmann::json& fields) {
    nlohmann::json j = common_;
    j.update(fields);
    out_ << j.dump() << "\n";
    out_.flush();
}

}  // namespace vkllm::bench
