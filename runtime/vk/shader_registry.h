#pragma once
// Every SPIR-V module compiled at build time (shaders/variants.cmake), embedded in the binary.

#include <cstdint>
#include <span>
#include <string_view>

namespace vkllm::shaders {

struct ShaderModuleCode {
    std::string_view name;
    std::span<const uint32_t> words;
};

// All modules, in build order.
std::span<const ShaderModuleCode> all_modules();

// The module called `name`; throws std::out_of_range naming it when no such module was built.
std::span<const uint32_t> find_module(std::string_view name);

}  // namespace vkllm::shaders
