#pragma once
// Activations quantized to q8_1 for the integer dot-product mat-vec (matvec.h): per column and
// 32-element block, d = max|x| / 127 and codes round(x / d). One buffer holds, for `ncols`
// columns of K elements:
//   bytes [0, ncols * K)                      codes, column c at c * K (int8)
//   bytes [ncols * K, + ncols * K / 32 * 16)  per block (d, d * sum of codes 0..15,
//                                             d * sum of codes 16..31, 0) as 4 floats
// A column is quantized once and read by every mat-vec that consumes it (Q, K and V; gate and
// up; the experts), so the cost is per activation tensor, not per weight.

#include <cstdint>

#include "runtime/vk/command_stream.h"
#include "runtime/vk/context.h"

namespace vkllm::ops {

// Bytes of the q8_1 form of `vectors` columns of K elements (K a multiple of 32).
uint64_t q8_1_bytes(uint32_t K, uint64_t vectors);

// Throws std::invalid_argument ("[op] expected <what> of at least N bytes at a 16-byte aligned
// offset") unless `s` can hold the q8_1 form of `vectors` vectors of K. Every writer and reader of
// the form checks its buffer with this.
void check_q8_1_span(const vk::BufferSpan& s, uint32_t K, uint64_t vectors, const char* op,
                     const char* what);

struct QuantizeQ8Args {
    vk::BufferSpan x;  // fp32, ncols columns of K
    uint32_t x_stride = 0;
    uint32_t K = 0;  // a positive multiple of 32
    uint32_t ncols = 1;
    vk::BufferSpan out;  // q8_1_bytes(K, ncols)
};

void record_quantize_q8_1(vk::Context& ctx, vk::CommandStream& cs, const QuantizeQ8Args& args);

}  // namespace vkllm::ops
