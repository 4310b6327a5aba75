#pragma once
// What a written model holds of one storage type, for the summaries `vkllm quantize` and
// `vkllm synth` print.

#include <cstddef>
#include <cstdint>

namespace vkllm::quant {

struct TypeTotals {
    size_t tensors = 0;
    uint64_t bytes = 0;
};

}  // namespace vkllm::quant
