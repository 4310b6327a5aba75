#include "tests/support/temp_file.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace vkllm::test {

std::filesystem::path unique_temp_gguf(const std::string& tag, const void* owner) {
    return std::filesystem::temp_directory_path() /
           ("vkllm-" + tag + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(owner)) + ".gguf");
}

RemoveOnExit::~RemoveOnExit() {
    std::error_code ec;
    for (const auto& p : paths) std::filesystem::remove(p, ec);
}

}  // namespace vkllm::test
