#pragma once
// What run and chat print besides the generated text: the timing line on stderr.

#include <cstdint>

#include "runtime/generate/generation.h"
#include "runtime/model/gemma4_model.h"

namespace vkllm::cli {

// "prefill 21 tok (0 reused) 812.3 tok/s | decode 15 tok 54.1 tok/s | finish length", on stderr.
void print_timing(const GenerationResult& result);

// With streamed experts (--vram-budget): "expert cache: 2 of 8 experts per MoE layer, hit rate
// 0.62 since the load, 41 uploaded (12.3 MB), 1.31 waves per layer-step, 0 expert pairs on the
// CPU", on stderr; nothing
// when every expert is resident.
void print_expert_cache(const Gemma4Model& model);

// A seed for when --seed is absent (from std::random_device).
uint64_t random_seed();

}  // namespace vkllm::cli
