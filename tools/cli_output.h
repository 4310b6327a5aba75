#pragma once
// What run and chat print besides the generated text: the timing line on stderr.

#include <cstdint>

#include "runtime/generate/generation.h"

namespace vkllm::cli {

// "prefill 21 tok (0 reused) 812.3 tok/s | decode 15 tok 54.1 tok/s | finish length", on stderr.
void print_timing(const GenerationResult& result);

// A seed for when --seed is absent (from std::random_device).
uint64_t random_seed();

}  // namespace vkllm::cli
