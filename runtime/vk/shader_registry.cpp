#include "runtime/vk/shader_registry.h"

#include <stdexcept>
#include <string>

namespace vkllm::shaders {

std::span<const uint32_t> find_module(std::string_view name) {
    for (const ShaderModuleCode& m : all_modules()) {
        if (m.name == name) return m.words;
    }
    throw std::out_of_range("no SPIR-V module named '" + std::string(name) +
                            "' was built (see shaders/variants.cmake)");
}

}  // namespace vkllm::shaders
