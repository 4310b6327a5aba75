#pragma once
// Temporary files of a test: a path no other test process or test of this run takes, and their
// removal however the test ends.

#include <filesystem>
#include <string>
#include <vector>

namespace vkllm::test {

// <temp dir>/vkllm-<tag>-<gtest random seed>-<owner address>.gguf
std::filesystem::path unique_temp_gguf(const std::string& tag, const void* owner);

// Removes its paths when it goes out of scope (errors ignored).
struct RemoveOnExit {
    std::vector<std::filesystem::path> paths;
    ~RemoveOnExit();
};

}  // namespace vkllm::test
