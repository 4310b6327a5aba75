// Dequantiser layout checks on hand-built blocks, fp16/bf16/E8M0 edge cases, quantise ->
// dequantise error bounds and random_quantized() sanity. Expected values below are worked out
// by hand from formats.md §2 (which byte/bit holds which element), not from the decoder code.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/fp16.h"
#include "loader/quant_blocks.h"
#include "quant/quantize.h"
#include "quant/random_blocks.h"

namespace vkllm {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------- fp16 / bf16 / e8m0

static_assert(f16_to_f32(0x3C00) == 1.0f);
static_assert(f32_to_f16(-2.0f) == 0xC000);
static_assert(bf16_to_f32(0x3F80) == 1.0f);
static_assert(e8m0_to_f32_half(128) == 1.0f);

TEST(Fp16, DecodeSpecialValues) {
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));     // smallest subnormal
    EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
    EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));     // smallest normal
    EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
    EXPECT_EQ(f16_to_f32(0x7C00), kInf);
    EXPECT_EQ(f16_to_f32(0xFC00), -kInf);
    EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
    EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
    EXPECT_EQ(f16_to_f32(0x8001), -std::ldexp(1.0f, -24));
    EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
}

TEST(Fp16, EncodeRoundingAndOverflow) {
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
    EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);  // below the halfway point
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);  // tie, rounds to even = inf
    EXPECT_EQ(f32_to_f16(1e9f), 0x7C00);
    EXPECT_EQ(f32_to_f16(-kInf), 0xFC00);
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie -> even (down)
    EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie -> even (up)
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
    EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
}

TEST(Fp16, EncodeSubnormals) {
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
    EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -25)), 0x8000);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25) * 1.0000001f), 0x0001);  // just above the tie
    EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);               // 1.5 ulp -> 2
    EXPECT_EQ(f32_to_f16(std::ldexp(5.0f, -25)), 0x0002);               // 2.5 ulp -> 2
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)),
              0x0400);  // carries to normal
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -30)), 0x0000);
    EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
}

TEST(Fp16, EncodeNaNKeepsSign) {
    EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
    EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::quiet_NaN()), 0xFE00);
    EXPECT_EQ(f32_to_f16(std::bit_cast<float>(0x7F800001u)), 0x7E00);  // signalling NaN too
}

TEST(Fp16, AllFiniteHalvesRoundTrip) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const auto hv = static_cast<uint16_t>(h);
        const float f = f16_to_f32(hv);
        if (std::isnan(f)) continue;
        ASSERT_EQ(f32_to_f16(f), hv) << "h=0x" << std::hex << h;
    }
}

TEST(Bf16, ConversionsMatchSpec) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie -> even (down)
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie -> even (up)
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3F808001u)), 0x3F81);
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7F800001u)), 0x7FC0);  // NaN forced quiet
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0xFF800001u)), 0xFFC0);
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7F7FFFFFu)), 0x7F80);  // max float rounds to inf
    EXPECT_EQ(bf16_to_f32(0xC0A0), -5.0f);
}

TEST(E8M0, HalfScaleIncludingSubnormals) {
    EXPECT_EQ(e8m0_to_f32_half(127), 0.5f);
    EXPECT_EQ(e8m0_to_f32_half(130), 4.0f);
    EXPECT_EQ(e8m0_to_f32_half(2), std::ldexp(1.0f, -126));
    EXPECT_EQ(e8m0_to_f32_half(1), std::ldexp(1.0f, -127));
    EXPECT_EQ(e8m0_to_f32_half(0), std::ldexp(1.0f, -128));
    EXPECT_EQ(e8m0_to_f32_half(255), std::ldexp(1.0f, 127));
}

// ---------------------------------------------------------------- hand-built blocks

struct Block {
    std::vector<std::byte> b;
    explicit Block(size_t n) : b(n) {}
    void set(size_t i, unsigned v) { b[i] = static_cast<std::byte>(v); }
    void f16(size_t i, float v) {
        const uint16_t h = f32_to_f16(v);
        set(i, h & 0xFFu);
        set(i + 1, h >> 8);
    }
};

std::vector<float> decode(GgmlType t, const Block& blk) {
    std::vector<float> y(traits_of(t).block_elems * (blk.b.size() / traits_of(t).block_bytes));
    dequantize_row(t, blk.b, y);
    return y;
}

TEST(DequantLegacy, Q4_0NibbleOrderAndOffset) {
    Block blk(18);
    blk.f16(0, 0.5f);
    for (unsigned j = 0; j < 16; ++j) blk.set(2 + j, j | ((15 - j) << 4));
    const auto y = decode(GgmlType::Q4_0, blk);
    EXPECT_EQ(y[0], -4.0f);  // q = 0 -> (0 - 8) * 0.5
    EXPECT_EQ(y[1], -3.5f);  // element 1 is the LOW nibble of qs[1], not the high nibble of qs[0]
    EXPECT_EQ(y[15], 3.5f);
    EXPECT_EQ(y[16], 3.5f);  // high nibble of qs[0] = 15
    EXPECT_EQ(y[31], -4.0f);
    EXPECT_EQ(y[8], 0.0f);
}

TEST(DequantLegacy, Q4_1AddsMin) {
    Block blk(20);
    blk.f16(0, 0.25f);
    blk.f16(2, -1.0f);
    blk.set(4, 0x4F);  // element 0 -> 15, element 16 -> 4
    const auto y = decode(GgmlType::Q4_1, blk);
    EXPECT_EQ(y[0], 2.75f);
    EXPECT_EQ(y[16], 0.0f);
    EXPECT_EQ(y[1], -1.0f);
}

TEST(DequantLegacy, Q5_0HighBits) {
    Block blk(22);
    blk.f16(0, 1.0f);
    blk.set(2, 0x01);   // qh bit 0: element 0
    blk.set(5, 0x80);   // qh bit 31: element 31
    blk.set(6, 0x3F);   // qs[0]: element 0 low = 15, element 16 high = 3
    blk.set(21, 0x20);  // qs[15]: element 31 high nibble = 2
    const auto y = decode(GgmlType::Q5_0, blk);
    EXPECT_EQ(y[0], 15.0f);    // 31 - 16
    EXPECT_EQ(y[16], -13.0f);  // 3 - 16, no high bit
    EXPECT_EQ(y[31], 2.0f);    // (2 | 16) - 16
    EXPECT_EQ(y[1], -16.0f);
}

TEST(DequantLegacy, Q5_1HighBitsAndMin) {
    Block blk(24);
    blk.f16(0, 0.5f);
    blk.f16(2, 2.0f);
    blk.set(5, 0x01);   // qh bit 8: element 8
    blk.set(16, 0x07);  // qs[8]: element 8 low nibble = 7
    const auto y = decode(GgmlType::Q5_1, blk);
    EXPECT_EQ(y[8], 0.5f * 23 + 2.0f);
    EXPECT_EQ(y[24], 2.0f);
}

TEST(DequantLegacy, Q8_0Signed) {
    Block blk(34);
    blk.f16(0, -2.0f);
    blk.set(2, 0x80);   // -128
    blk.set(3, 0x7F);   // 127
    blk.set(33, 0xFF);  // -1
    const auto y = decode(GgmlType::Q8_0, blk);
    EXPECT_EQ(y[0], 256.0f);
    EXPECT_EQ(y[1], -254.0f);
    EXPECT_EQ(y[31], 2.0f);
}

TEST(DequantIq4, Iq4NlTable) {
    Block blk(18);
    blk.f16(0, 1.0f);
    for (unsigned j = 0; j < 16; ++j) blk.set(2 + j, j | ((15 - j) << 4));
    const auto y = decode(GgmlType::IQ4_NL, blk);
    const float kv[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], kv[j]);
        EXPECT_EQ(y[j + 16], kv[15 - j]);
    }
}

TEST(DequantIq4, Iq4XsSubBlockScales) {
    Block blk(136);
    blk.f16(0, 0.5f);
    // ls_b for b = 0..7: low nibbles in scales_l[b/2] (b odd -> high nibble), 2 high bits in
    // scales_h bits 2b..2b+1.  Chosen: 0, 31, 32, 33, 63, 1, 40, 20.
    blk.set(4, 0xF0);  // ls0 lo 0, ls1 lo 15
    blk.set(5, 0x10);  // ls2 lo 0, ls3 lo 1
    blk.set(6, 0x1F);  // ls4 lo 15, ls5 lo 1
    blk.set(7, 0x48);  // ls6 lo 8, ls7 lo 4
    // high bits: ls0 0, ls1 1, ls2 2, ls3 2, ls4 3, ls5 0, ls6 2, ls7 1
    const unsigned sh = (0u << 0) | (1u << 2) | (2u << 4) | (2u << 6) | (3u << 8) | (0u << 10) |
                        (2u << 12) | (1u << 14);
    blk.set(2, sh & 0xFF);
    blk.set(3, sh >> 8);
    for (size_t b = 0; b < 8; ++b) blk.set(8 + 16 * b, 0x8F);  // element 32b -> 113, 32b+16 -> 1
    const auto y = decode(GgmlType::IQ4_XS, blk);
    const int ls[8] = {0, 31, 32, 33, 63, 1, 40, 20};
    for (int b = 0; b < 8; ++b) {
        SCOPED_TRACE(b);
        const float dl = 0.5f * static_cast<float>(ls[b] - 32);
        EXPECT_EQ(y[32 * b], dl * 113.0f);
        EXPECT_EQ(y[32 * b + 16], dl * 1.0f);
        EXPECT_EQ(y[32 * b + 1], dl * -127.0f);
    }
}

TEST(DequantMxfp4, TableAndScale) {
    Block blk(17);
    blk.set(0, 128);
    for (unsigned j = 0; j < 16; ++j) blk.set(1 + j, j | ((15 - j) << 4));
    auto y = decode(GgmlType::MXFP4, blk);
    const float kv[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], kv[j]);
        EXPECT_EQ(y[j + 16], kv[15 - j]);
    }
    blk.set(0, 125);  // 2^-3
    y = decode(GgmlType::MXFP4, blk);
    EXPECT_EQ(y[7], 1.5f);
    EXPECT_EQ(y[16], -1.5f);
}

TEST(DequantFloat, F32F16Bf16) {
    Block f32(8);
    f32.set(2, 0x80);
    f32.set(3, 0x3F);  // 1.0f
    f32.set(7, 0xC0);  // -2.0f
    EXPECT_EQ(decode(GgmlType::F32, f32), (std::vector<float>{1.0f, -2.0f}));
    Block f16(4);
    f16.f16(0, 0.5f);
    f16.set(2, 0x01);  // smallest subnormal
    EXPECT_EQ(decode(GgmlType::F16, f16), (std::vector<float>{0.5f, std::ldexp(1.0f, -24)}));
    Block bf(2);
    bf.set(0, 0xA0);
    bf.set(1, 0xC0);
    EXPECT_EQ(decode(GgmlType::BF16, bf), (std::vector<float>{-5.0f}));
}

TEST(DequantK, Q2_KScalesMinsAndCodes) {
    Block blk(84);
    blk.f16(80, 1.0f);       // d
    blk.f16(82, 1.0f);       // dmin
    blk.set(11, 0x23);       // sub-block 11 (elements 176..191): scale 3, min 2
    blk.set(16 + 52, 0x0C);  // qs[32*1 + 20] bits 2..3 -> element 128 + 32 + 20 = 180, q = 3
    const auto y = decode(GgmlType::Q2_K, blk);
    EXPECT_EQ(y[180], 7.0f);  // 3*3 - 2
    EXPECT_EQ(y[176], -2.0f);
    EXPECT_EQ(y[191], -2.0f);
    EXPECT_EQ(y[175], 0.0f);
    EXPECT_EQ(y[192], 0.0f);
    EXPECT_EQ(y[148], 0.0f);  // same qs byte, s = 0 field is zero
}

TEST(DequantK, Q3_KSignedScalesAndHmask) {
    Block blk(110);
    for (size_t l = 0; l < 32; ++l) blk.set(l, 0xFF);  // hmask set: no -4 offset
    blk.set(0, 0xFE);        // element 0 (bit 0 of hmask[0]) gets q = 0 - 4
    blk.set(32 + 52, 0x30);  // qs[32 + 20] bits 4..5: element 128 + 64 + 20 = 212, q2 = 3
    blk.set(96 + 5, 0x50);   // sc13 low nibble 5 (scales[13-8] >> 4)
    blk.set(96 + 9, 0x80);   // sc13 high bits 2 (scales[8 + 1] >> 6)  -> 37 - 32 = 5
    blk.f16(108, 0.5f);
    const auto y = decode(GgmlType::Q3_K, blk);
    EXPECT_EQ(y[212], 7.5f);  // (0.5*5)*3
    EXPECT_EQ(y[0], 64.0f);   // (0.5*-32)*-4, all other scales stored as 0 -> -32
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_EQ(y[213], 0.0f);
}

TEST(DequantK, Q4_KScalePackingAndMinus) {
    Block blk(144);
    blk.f16(0, 1.0f);
    blk.f16(2, 1.0f);
    blk.set(4 + 0, 0xC1);  // sc0 = 1; bits 6..7 = high bits of sc4 = 3
    blk.set(4 + 4, 0x82);  // m0 = 2; bits 6..7 = high bits of m4 = 2
    blk.set(4 + 8, 0x5A);  // sc4 low = 10, m4 low = 5  -> sc4 = 58, m4 = 37
    for (size_t i = 16; i < 144; ++i) blk.set(i, 0x11);
    const auto y = decode(GgmlType::Q4_K, blk);
    EXPECT_EQ(y[0], -1.0f);  // sub-block 0: 1*1 - 2
    EXPECT_EQ(y[31], -1.0f);
    EXPECT_EQ(y[32], 0.0f);    // sub-block 1: sc = m = 0
    EXPECT_EQ(y[128], 21.0f);  // sub-block 4 = (c 2, p 0): 58 - 37
    EXPECT_EQ(y[160], 0.0f);
}

TEST(DequantK, Q4_KNibbleOrder) {
    Block blk(144);
    blk.f16(0, 1.0f);
    for (size_t j = 0; j < 4; ++j) blk.set(4 + j, 1);      // sc 0..3 = 1
    for (size_t j = 0; j < 4; ++j) blk.set(4 + 8 + j, 1);  // sc 4..7 = 1
    blk.set(16 + 32 * 1 + 5, 0x30);  // c = 1, l = 5, high nibble: element 64 + 32 + 5 = 101
    const auto y = decode(GgmlType::Q4_K, blk);
    for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], e == 101 ? 3.0f : 0.0f) << e;
}

TEST(DequantK, Q5_KHighBit) {
    Block blk(176);
    blk.f16(0, 1.0f);
    for (size_t j = 0; j < 4; ++j) blk.set(4 + j, 1);
    for (size_t j = 0; j < 4; ++j) blk.set(4 + 8 + j, 1);
    blk.set(16 + 7, 0x08);           // qh[7] bit 3 = (c 1, p 1): element 64 + 32 + 7 = 103
    blk.set(48 + 32 * 1 + 7, 0x20);  // low nibble 2 for element 103 (high nibble of qs[39])
    const auto y = decode(GgmlType::Q5_K, blk);
    for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], e == 103 ? 18.0f : 0.0f) << e;
}

TEST(DequantK, Q6_KLayout) {
    Block blk(210);
    blk.f16(208, 1.0f);
    for (size_t k = 0; k < 16; ++k)
        blk.set(192 + k, static_cast<unsigned>(static_cast<int>(k) - 8) & 0xFF);
    blk.set(64 + 32 + 3,
            0x50);  // ql[64h + l + 32] high nibble: h 1, t 3, l 3 -> element 227, low 5
    blk.set(128 + 32 + 3, 0x80);  // qh[32 + 3] bits 6..7 = 2 for t = 3
    const auto y = decode(GgmlType::Q6_K, blk);
    EXPECT_EQ(y[227], 30.0f);    // ((5 | 2<<4) - 32) = 5, scale k = 8 + 6 + 0 = 14 -> 6
    EXPECT_EQ(y[0], 256.0f);     // q = -32, scale -8
    EXPECT_EQ(y[16], 224.0f);    // scale index 1 -> -7
    EXPECT_EQ(y[255], -224.0f);  // k = 15 -> scale 7, q = -32
}

TEST(Dequant, RejectsBadSizesAndTypes) {
    std::vector<float> y(32);
    std::vector<std::byte> b(17);
    EXPECT_THROW(dequantize_row(GgmlType::Q4_0, b, y), std::invalid_argument);
    std::vector<float> y31(31);
    std::vector<std::byte> b18(18);
    EXPECT_THROW(dequantize_row(GgmlType::Q4_0, b18, y31), std::invalid_argument);
    EXPECT_THROW(dequantize_row(GgmlType::IQ2_XXS, b18, y), std::invalid_argument);
    EXPECT_FALSE(can_dequantize(GgmlType::Q8_K));
    EXPECT_TRUE(can_dequantize(GgmlType::MXFP4));
    EXPECT_THROW(quant::quantize_row(GgmlType::IQ4_NL, std::vector<float>(32)),
                 std::invalid_argument);
    EXPECT_THROW(quant::quantize_row(GgmlType::Q4_K, std::vector<float>(32)),
                 std::invalid_argument);
}

// ---------------------------------------------------------------- random_quantized

constexpr GgmlType kDequantizable[] = {
    GgmlType::F32,  GgmlType::F16,    GgmlType::BF16,   GgmlType::Q4_0,
    GgmlType::Q4_1, GgmlType::Q5_0,   GgmlType::Q5_1,   GgmlType::Q8_0,
    GgmlType::Q2_K, GgmlType::Q3_K,   GgmlType::Q4_K,   GgmlType::Q5_K,
    GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::MXFP4,
};

TEST(RandomQuantized, ValidSaneAndDeterministic) {
    for (GgmlType type : kDequantizable) {
        for (uint64_t seed = 1; seed <= 4; ++seed) {
            SCOPED_TRACE("type " + std::string(traits_of(type).name) + " seed " +
                         std::to_string(seed));
            ASSERT_TRUE(can_dequantize(type));
            std::mt19937_64 rng(seed);
            const auto q = quant::random_quantized(type, 1024, rng);
            ASSERT_EQ(q.size(), row_bytes(type, 1024));
            std::mt19937_64 rng2(seed);
            EXPECT_EQ(q, quant::random_quantized(type, 1024, rng2));
            std::vector<float> y(1024);
            dequantize_row(type, q, y);
            double sum2 = 0.0;
            for (float v : y) {
                ASSERT_TRUE(std::isfinite(v));
                ASSERT_LT(std::fabs(v), 16.0f);  // "O(1)": N(0,1) samples or bounded random scales
                sum2 += static_cast<double>(v) * static_cast<double>(v);
            }
            const double rms = std::sqrt(sum2 / 1024.0);
            EXPECT_GT(rms, 0.05);  // not degenerate (all-zero) content
            EXPECT_LT(rms, 3.0);
        }
    }
}

TEST(RandomQuantized, RejectsUnsupported) {
    std::mt19937_64 rng(7);
    EXPECT_THROW(quant::random_quantized(GgmlType::IQ2_XXS, 256, rng), std::invalid_argument);
    EXPECT_THROW(quant::random_quantized(GgmlType::Q4_K, 100, rng), std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
