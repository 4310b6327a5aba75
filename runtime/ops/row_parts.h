#pragma once
// Shared plumbing of the row-wise ops (norm, rope, glu, softmax, binary, softcap, argmax,
// moe_route). Their tensors may be split into several bindings (vk::TensorSpans, arena.h), and
// not all the same way: the rows are walked in segments that lie inside one part of every tensor,
// one dispatch per segment, with the element offset of the segment's first row in push
// constants (binding offsets must stay aligned). Element size is 4 bytes (f32, u32, i32).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/vk/arena.h"
#include "runtime/vk/command_stream.h"
#include "runtime/vk/device.h"

namespace vkllm::ops {

// A tensor held in one binding, viewed as `rows` rows of `row_bytes` (which must fit in `span`).
vk::TensorSpans rows_of(const vk::BufferSpan& span, uint64_t row_bytes, uint64_t rows);

struct RowSegment {
    uint64_t first_row = 0;  // global index of the segment's first row
    uint64_t rows = 0;
    std::vector<vk::BufferSpan> parts;  // per tensor, the part that holds the segment
    std::vector<uint32_t> elem_off;     // per tensor, 4-byte element offset of first_row in it
};

// Segments covering rows [0, rows) of tensors that all have `rows` rows; at most max_rows each.
std::vector<RowSegment> row_segments(std::initializer_list<const vk::TensorSpans*> tensors,
                                     uint64_t max_rows = UINT32_MAX);

// Workgroup grid for `n` groups: x up to the device limit, folded into y beyond it. Shaders
// rebuild the linear id as y * num_groups_x + x and drop ids >= n.
vk::Groups fold_groups(const vk::Device& device, uint64_t n);

// Row length in 4-byte elements; throws "[op] ..." when row_bytes is not a multiple of 4.
uint32_t row_elems(const vk::TensorSpans& t, const char* op, const char* what);

// Throws std::invalid_argument("[op] expected <what> ..., got ...") when got != want.
void expect_eq(uint64_t got, uint64_t want, const char* op, const std::string& what);

}  // namespace vkllm::ops
