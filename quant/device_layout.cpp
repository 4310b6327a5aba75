#include "quant/device_layout.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

#include "loader/quant_blocks.h"

namespace vkllm::quant {
namespace {

// Where a grouped type keeps d inside its GGUF block; the rest of the block is its codes.
struct GroupedType {
    uint32_t block_bytes = 0;
    uint32_t d_offset = 0;  // 0: d leads the block (Q4_0, Q8_0); block_bytes - 2: d ends it (Q6_K)
    uint32_t codes_bytes() const { return block_bytes - 2; }
    uint32_t codes_offset() const { return d_offset == 0 ? 2 : 0; }  // in the GGUF block
};

bool grouped_type(GgmlType type, GroupedType& g) {
    switch (type) {
        case GgmlType::Q4_0:
            g = {18, 0};
            return true;
        case GgmlType::Q8_0:
            g = {34, 0};
            return true;
        case GgmlType::Q6_K:
            g = {210, 208};
            return true;
        default:
            return false;
    }
}

// Device positions of block i of a piece of `n` blocks that starts at a group boundary.
struct BlockPlace {
    uint64_t codes = 0;
    uint64_t d = 0;
};

BlockPlace place(const GroupedType& g, uint64_t i, uint64_t n) {
    const uint64_t slot = i % k_layout_group_blocks;
    const uint64_t first = i - slot;
    const uint64_t in_group = std::min<uint64_t>(k_layout_group_blocks, n - first);
    const uint64_t base = first * g.block_bytes;
    return {base + slot * g.codes_bytes(), base + in_group * g.codes_bytes() + 2 * slot};
}

// Calls f(i, place) for each of the n blocks of a piece: block i's GGUF bytes start at
// i * block_bytes, and `place` says where its codes and d go in the device layout.
template <typename F>
void for_each_block(const GroupedType& g, uint64_t n, F&& f) {
    for (uint64_t i = 0; i < n; ++i) f(i, place(g, i, n));
}

uint64_t whole_blocks(GgmlType type, uint64_t src_bytes, uint64_t dst_bytes, const char* what) {
    const uint64_t bb = traits_of(type).block_bytes;
    if (src_bytes != dst_bytes || bb == 0 || src_bytes % bb != 0) {
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(src_bytes) +
                                    " bytes of " + std::string(traits_of(type).name) + " into " +
                                    std::to_string(dst_bytes) + " (need equal, whole blocks)");
    }
    return src_bytes / bb;
}

}  // namespace

bool has_grouped_layout(GgmlType type) {
    GroupedType g;
    return grouped_type(type, g);
}

uint64_t layout_group_bytes(GgmlType type) {
    GroupedType g;
    return grouped_type(type, g) ? uint64_t{k_layout_group_blocks} * g.block_bytes : 1;
}

void to_device_layout(GgmlType type, std::span<const std::byte> src, std::span<std::byte> dst) {
    const uint64_t n = whole_blocks(type, src.size(), dst.size(), "to_device_layout");
    GroupedType g;
    if (!grouped_type(type, g)) {
        std::memcpy(dst.data(), src.data(), src.size());
        return;
    }
    for_each_block(g, n, [&](uint64_t i, const BlockPlace& p) {
        const std::byte* block = src.data() + i * g.block_bytes;
        std::memcpy(dst.data() + p.codes, block + g.codes_offset(), g.codes_bytes());
        std::memcpy(dst.data() + p.d, block + g.d_offset, 2);
    });
}

void from_device_layout(GgmlType type, std::span<const std::byte> src, std::span<std::byte> dst) {
    const uint64_t n = whole_blocks(type, src.size(), dst.size(), "from_device_layout");
    GroupedType g;
    if (!grouped_type(type, g)) {
        std::memcpy(dst.data(), src.data(), src.size());
        return;
    }
    for_each_block(g, n, [&](uint64_t i, const BlockPlace& p) {
        std::byte* block = dst.data() + i * g.block_bytes;
        std::memcpy(block + g.codes_offset(), src.data() + p.codes, g.codes_bytes());
        std::memcpy(block + g.d_offset, src.data() + p.d, 2);
    });
}

void dequantize_device_layout(GgmlType type, std::span<const std::byte> src, std::span<float> dst) {
    GroupedType g;
    if (!grouped_type(type, g)) {
        dequantize_row(type, src, dst);
        return;
    }
    const uint64_t qk = traits_of(type).block_elems;
    const uint64_t n = dst.size() / qk;
    if (dst.size() % qk != 0 || src.size() != n * g.block_bytes) {
        throw std::invalid_argument("dequantize_device_layout: " + std::to_string(src.size()) +
                                    " bytes for " + std::to_string(dst.size()) + " elements");
    }
    // Each block is decoded from its codes and d where the device layout puts them.
    std::array<std::byte, 256> block{};
    for_each_block(g, n, [&](uint64_t i, const BlockPlace& p) {
        std::memcpy(block.data() + g.codes_offset(), src.data() + p.codes, g.codes_bytes());
        std::memcpy(block.data() + g.d_offset, src.data() + p.d, 2);
        dequantize_row(type, std::span(block.data(), g.block_bytes), dst.subspan(i * qk, qk));
    });
}

}  // namespace vkllm::quant
