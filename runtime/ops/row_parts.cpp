#include "runtime/ops/row_parts.h"

#include <algorithm>
#include <stdexcept>

namespace vkllm::ops {

vk::TensorSpans rows_of(const vk::BufferSpan& span, uint64_t row_bytes, uint64_t rows) {
    if (row_bytes == 0 || row_bytes * rows > span.size) {
        throw std::invalid_argument("[rows_of] expected " + std::to_string(rows) + " rows of " +
                                    std::to_string(row_bytes) + " bytes to fit a span of " +
                                    std::to_string(span.size) + " bytes");
    }
    vk::TensorSpans t;
    t.parts = {span.sub(0, std::max<uint64_t>(row_bytes * rows, std::min<uint64_t>(span.size, 4)))};
    t.row_bytes = row_bytes;
    t.rows = rows;
    t.rows_per_part = std::max<uint64_t>(rows, 1);
    return t;
}

std::vector<RowSegment> row_segments(std::initializer_list<const vk::TensorSpans*> tensors,
                                     uint64_t max_rows) {
    std::vector<RowSegment> out;
    if (tensors.size() == 0) return out;
    const uint64_t rows = (*tensors.begin())->rows;
    for (uint64_t r = 0; r < rows;) {
        RowSegment seg;
        seg.first_row = r;
        uint64_t n = std::min(rows - r, max_rows);
        for (const vk::TensorSpans* t : tensors) {
            const uint64_t p = r / t->rows_per_part;
            const uint64_t in_part = r - p * t->rows_per_part;
            n = std::min(n, t->rows_in(p) - in_part);
            const uint64_t off = in_part * t->row_bytes / 4;
            if (off > UINT32_MAX) throw std::length_error("row_segments: element offset over 2^32");
            seg.parts.push_back(t->parts.at(p));
            seg.elem_off.push_back(static_cast<uint32_t>(off));
        }
        seg.rows = n;
        out.push_back(std::move(seg));
        r += n;
    }
    return out;
}

vk::Groups fold_groups(const vk::Device& device, uint64_t n) {
    const uint64_t max_x = device.info().max_workgroup_count[0];
    const uint64_t max_y = device.info().max_workgroup_count[1];
    if (n <= max_x) return {static_cast<uint32_t>(n), 1, 1};
    const uint64_t y = (n + max_x - 1) / max_x;
    if (y > max_y) throw std::length_error("fold_groups: " + std::to_string(n) + " workgroups");
    return {static_cast<uint32_t>(max_x), static_cast<uint32_t>(y), 1};
}

uint32_t row_elems(const vk::TensorSpans& t, const char* op, const char* what) {
    if (t.row_bytes == 0 || t.row_bytes % 4 != 0 || t.row_bytes / 4 > UINT32_MAX) {
        throw std::invalid_argument(std::string("[") + op + "] expected " + what +
                                    " rows of 4-byte elements, got rows of " +
                                    std::to_string(t.row_bytes) + " bytes");
    }
    return static_cast<uint32_t>(t.row_bytes / 4);
}

void expect_eq(uint64_t got, uint64_t want, const char* op, const std::string& what) {
    if (got != want) {
        throw std::invalid_argument(std::string("[") + op + "] expected " + what + " " +
                                    std::to_string(want) + ", got " + std::to_string(got));
    }
}

}  // namespace vkllm::ops
