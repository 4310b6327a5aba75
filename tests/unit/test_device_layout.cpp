// The device layout of weight blocks (quant/device_layout.h): its decoder against the GGUF one,
// bit for bit, at block counts that end in a short group; the byte positions of a hand-built
// group; the round trip; and group-aligned pieces rewriting the same as the whole part.

#include <gtest/gtest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/quant_blocks.h"
#include "quant/device_layout.h"
#include "quant/random_blocks.h"

namespace vkllm::quant {
namespace {

constexpr GgmlType k_grouped[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q6_K};

std::vector<std::byte> device_bytes(GgmlType type, const std::vector<std::byte>& gguf) {
    std::vector<std::byte> out(gguf.size());
    to_device_layout(type, gguf, out);
    return out;
}

TEST(DeviceLayout, GroupedTypesAreTheTwoByteAlignedOnes) {
    for (const GgmlType t : k_grouped) {
        EXPECT_TRUE(has_grouped_layout(t));
        EXPECT_EQ(layout_group_bytes(t) % 16, 0u) << traits_of(t).name;
    }
    for (const GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q4_K, GgmlType::Q5_K,
                             GgmlType::Q4_1, GgmlType::Q2_K}) {
        EXPECT_FALSE(has_grouped_layout(t));
        EXPECT_EQ(layout_group_bytes(t), 1u);
    }
}

TEST(DeviceLayout, DecodesBitIdenticalToGgufIncludingShortLastGroups) {
    std::mt19937_64 rng(11);
    for (const GgmlType t : k_grouped) {
        const uint32_t qk = traits_of(t).block_elems;
        for (const uint32_t blocks : {1u, 3u, 7u, 8u, 9u, 16u, 21u, 84u, 173u}) {
            SCOPED_TRACE(std::string(traits_of(t).name) + " blocks=" + std::to_string(blocks));
            const std::vector<std::byte> gguf = random_quantized(t, size_t{blocks} * qk, rng);
            std::vector<float> want(size_t{blocks} * qk), got(want.size());
            dequantize_row(t, gguf, want);
            dequantize_device_layout(t, device_bytes(t, gguf), got);
            // Bit patterns, so NaN codes in random d values compare too.
            for (size_t i = 0; i < want.size(); ++i) {
                ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
                    << "element " << i;
            }
        }
    }
}

TEST(DeviceLayout, PutsCodesSixteenByteAlignedAndScalesAfterThem) {
    // 9 blocks of Q8_0: one full group, then a group of one block.
    std::vector<std::byte> gguf(9 * 34);
    for (size_t b = 0; b < 9; ++b) {
        for (size_t i = 0; i < 34; ++i) gguf[b * 34 + i] = std::byte(b * 40 + i);
    }
    const std::vector<std::byte> dev = device_bytes(GgmlType::Q8_0, gguf);
    for (size_t b = 0; b < 8; ++b) {
        EXPECT_EQ(dev[b * 32], std::byte(b * 40 + 2)) << b;   // first code of block b
        EXPECT_EQ(dev[256 + 2 * b], std::byte(b * 40)) << b;  // its d, low byte
    }
    EXPECT_EQ(dev[272], std::byte(8 * 40 + 2));   // the short group: codes first
    EXPECT_EQ(dev[272 + 32], std::byte(8 * 40));  // then d
    // Q6_K keeps ql, qh and scales in place and moves d (bytes 208, 209) behind the group.
    std::vector<std::byte> q6(2 * 210);
    for (size_t i = 0; i < q6.size(); ++i) q6[i] = std::byte(i * 7);
    const std::vector<std::byte> d6 = device_bytes(GgmlType::Q6_K, q6);
    EXPECT_EQ(0, std::memcmp(d6.data(), q6.data(), 208));
    EXPECT_EQ(0, std::memcmp(d6.data() + 208, q6.data() + 210, 208));
    EXPECT_EQ(0, std::memcmp(d6.data() + 416, q6.data() + 208, 2));
    EXPECT_EQ(0, std::memcmp(d6.data() + 418, q6.data() + 418, 2));
}

TEST(DeviceLayout, RoundTripsAndRewritesGroupAlignedPiecesAsTheWhole) {
    std::mt19937_64 rng(12);
    for (const GgmlType t : k_grouped) {
        const uint32_t qk = traits_of(t).block_elems;
        const std::vector<std::byte> gguf = random_quantized(t, size_t{29} * qk, rng);
        const std::vector<std::byte> whole = device_bytes(t, gguf);
        std::vector<std::byte> back(gguf.size());
        from_device_layout(t, whole, back);
        EXPECT_EQ(back, gguf) << traits_of(t).name;
        // Pieces of 2 groups and the 13-block remainder, as the staged upload cuts a part.
        const size_t piece = 2 * layout_group_bytes(t);
        std::vector<std::byte> pieces(gguf.size());
        for (size_t off = 0; off < gguf.size(); off += piece) {
            const size_t n = std::min(piece, gguf.size() - off);
            to_device_layout(t, std::span(gguf).subspan(off, n), std::span(pieces).subspan(off, n));
        }
        EXPECT_EQ(pieces, whole) << traits_of(t).name;
    }
}

TEST(DeviceLayout, RejectsPartialBlocksAndSizeMismatches) {
    std::vector<std::byte> a(35), b(35), c(34);
    EXPECT_THROW(to_device_layout(GgmlType::Q8_0, a, b), std::invalid_argument);
    EXPECT_THROW(from_device_layout(GgmlType::Q8_0, c, b), std::invalid_argument);
    std::vector<float> out(33);
    EXPECT_THROW(dequantize_device_layout(GgmlType::Q8_0, c, out), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm::quant
