#pragma once
// Embedding row fetch: decodes table rows picked by device-resident token ids into fp32, with an
// optional scale (Gemma multiplies embeddings by sqrt(n_embd)). Every type in VKLLM_WEIGHT_TYPES;
// the table may span several parts.

#include <cstdint>

#include "runtime/ops/matvec.h"

namespace vkllm::ops {

// out[t * out_stride + k] = scale * W[ids[t]][k] for t < n_tokens, k < K. An id outside the
// table leaves its output row unwritten.
struct GetRowsArgs {
    WeightView table;    // [K, V]
    vk::BufferSpan ids;  // n_tokens uint32
    uint32_t n_tokens = 0;
    vk::BufferSpan out;
    uint32_t out_stride = 0;
    float scale = 1.0f;
};

void record_get_rows(vk::Context& ctx, vk::CommandStream& cs, const GetRowsArgs& args);

}  // namespace vkllm::ops
