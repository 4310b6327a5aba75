#pragma once
// Rounding of sizes and offsets, shared by every layer (the lowest one holds it).

#include <cstdint>

namespace vkllm {

// x rounded up to a multiple of a (a > 0).
constexpr uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

}  // namespace vkllm
