#pragma once
// Where and how benchmark results are recorded: JSON lines appended to
// bench-results/<date>_<git commit>_<device>_<kind>.jsonl, each line carrying the device, driver,
// commit and command that produced it, so figures can be traced back.

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/vk/device_info.h"

namespace vkllm::bench {

class BenchRecord {
  public:
    // Creates out_dir if needed and opens the file for `kind` ("ops", "model") in append mode.
    BenchRecord(const std::string& out_dir, const std::string& kind, const vk::DeviceInfo& device,
                const std::string& command_line);

    // Appends `fields` merged over the common fields.
    void write(const nlohmann::json& fields);
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    std::ofstream out_;
    nlohmann::json common_;
};

}  // namespace vkllm::bench
