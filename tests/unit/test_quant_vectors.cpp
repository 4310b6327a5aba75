// formats.md §5 test vectors: the reference quantisers must reproduce llama.cpp's bytes exactly
// and the dequantiser must reproduce its float32 outputs bit for bit.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "loader/fp16.h"
#include "loader/quant_blocks.h"
#include "quant/quantize.h"
#include "quant/turbo_quant.h"

namespace vkllm {
namespace {

enum class Gen { A, K4, K6 };

// §5 input generator: an LCG whose outputs are shifted right by 8, mapped to exact f32 values.
std::vector<float> generate(Gen g, uint32_t seed, size_t n) {
    std::vector<float> x(n);
    uint32_t s = seed;
    for (size_t i = 0; i < n; ++i) {
        s = 1664525u * s + 1013904223u;  // mod 2^32 via unsigned wrap-around
        const uint32_t r = s >> 8;
        const int blk32 = static_cast<int>(i / 32);
        const int blk16 = static_cast<int>(i / 16);
        switch (g) {
            case Gen::A:
                x[i] = static_cast<float>(static_cast<int>(r % 2001) - 1000) / 1024.0f;
                break;
            case Gen::K4:
                x[i] =
                    static_cast<float>((static_cast<int>(r % 1001) - 300) * (1 + blk32)) / 4096.0f;
                break;
            case Gen::K6:
                x[i] = static_cast<float>((static_cast<int>(r % 2001) - 1000) * (1 + blk16 % 5)) /
                       4096.0f;
                break;
        }
    }
    return x;
}

std::vector<std::byte> hex_bytes(const std::string& hex) {
    std::vector<std::byte> out;
    std::istringstream in(hex);
    std::string tok;
    while (in >> tok) out.push_back(static_cast<std::byte>(std::stoul(tok, nullptr, 16)));
    return out;
}

std::vector<float> decimals(const std::string& s) {
    std::vector<float> out;
    std::istringstream in(s);
    std::string tok;
    while (std::getline(in, tok, ',')) out.push_back(std::strtof(tok.c_str(), nullptr));
    return out;
}

std::string to_hex(const std::vector<std::byte>& v) {
    std::string s;
    char buf[4];
    for (std::byte b : v) {
        std::snprintf(buf, sizeof buf, "%02x ", std::to_integer<unsigned>(b));
        s += buf;
    }
    return s;
}

// `==` rather than bitwise so that -0 and +0 compare equal (see formats.md §2.2 sign note).
void expect_floats(const std::vector<float>& got, size_t first, const std::string& want_csv) {
    const std::vector<float> want = decimals(want_csv);
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[first + i], want[i]) << "element " << first + i;
    }
}

struct Vector {
    GgmlType type;
    Gen gen;
    uint32_t seed;
    size_t n;
    std::string in_first, in_last, bytes, out_first, out_last;
};

void check_vector(const Vector& v) {
    SCOPED_TRACE("type " + std::string(traits_of(v.type).name) + " seed " + std::to_string(v.seed));
    const std::vector<float> x = generate(v.gen, v.seed, v.n);
    expect_floats(x, 0, v.in_first);
    expect_floats(x, v.n - 8, v.in_last);
    const std::vector<std::byte> q = quant::quantize_row(v.type, x);
    const std::vector<std::byte> want = hex_bytes(v.bytes);
    EXPECT_EQ(to_hex(q), to_hex(want));
    std::vector<float> y(v.n);
    dequantize_row(v.type, want, y);
    expect_floats(y, 0, v.out_first);
    expect_floats(y, v.n - 8, v.out_last);
}

TEST(QuantVectors, Q8_0_GenA_Seed1) {
    check_vector({GgmlType::Q8_0, Gen::A, 1, 32,
                  "0.0810546875, -0.745117188, 0.537109375, -0.91015625, 0.544921875, "
                  "-0.594726562, 0.849609375, -0.359375",
                  "-0.149414062, 0.6796875, -0.649414062, -0.365234375, 0.323242188, 0.776367188, "
                  "-0.227539062, -0.313476562",
                  "79 1f 0b 9a 4a 83 4b af 74 cf c7 37 67 e3 19 b0 7f 56 84 2b b6 7f 0d f5 fb 22 "
                  "ec 5d a7 ce 2c 6a e1 d5",
                  "0.0802726746, -0.744346619, 0.540016174, -0.912189484, 0.54731369, "
                  "-0.591098785, 0.846511841, -0.357578278",
                  "-0.145950317, 0.678668976, -0.649478912, -0.364875793, 0.321090698, "
                  "0.773536682, -0.226222992, -0.313793182"});
}

TEST(QuantVectors, Q4_0_GenA_Seed2) {
    check_vector({GgmlType::Q4_0, Gen::A, 2, 32,
                  "0.568359375, 0.228515625, -0.51171875, -0.205078125, 0.408203125, 0.778320312, "
                  "0.0244140625, -0.375976562",
                  "0.458984375, 0.5078125, 0.505859375, -0.245117188, -0.20703125, -0.422851562, "
                  "0.35546875, 0.877929688",
                  "a6 af 43 e6 5c 5a 15 91 08 2b 47 4a 4e a4 a7 cd 5a 1b",
                  "0.59753418, 0.239013672, -0.478027344, -0.239013672, 0.358520508, 0.836547852, "
                  "-0, -0.358520508",
                  "0.478027344, 0.478027344, 0.478027344, -0.239013672, -0.239013672, "
                  "-0.478027344, 0.358520508, 0.836547852"});
}

TEST(QuantVectors, Q4_K_GenK4_Seed3) {
    check_vector(
        {GgmlType::Q4_K, Gen::K4, 3, 256,
         "-0.0505371094, 0.0776367188, 0.150390625, 0.167724609, -0.0158691406, 0.119628906, "
         "0.0925292969, 0.0109863281",
         "0.86328125, -0.2890625, -0.095703125, 0.03125, 0.59765625, 0.322265625, -0.044921875, 0",
         "23 18 a5 20 88 d0 d6 df 87 8f d2 dd 87 f1 15 ff b1 79 bd fe a3 db 0a 75 38 8b 77 b4 59 "
         "34 7a cd "
         "64 21 61 44 9a b1 6a 15 20 c3 0e 80 0a ad 50 70 2f 03 c1 fe 35 e1 63 02 a2 65 b2 ea 99 "
         "26 75 76 "
         "32 c4 bf d6 62 25 dd f0 f0 ab 43 ae 6b e5 7a 70 43 2b a3 5e 2f 7f 3c 99 2f 73 69 80 46 "
         "cd ba 51 "
         "ec c4 8c 31 c4 99 ed 28 12 b9 02 88 d6 ee e0 10 a2 47 2e 7a da 24 d5 f6 7f 29 64 23 51 "
         "03 40 ea "
         "c6 95 1c 46 6f dd be 9e b9 2b 46 57 94 7b 4d 47",
         "-0.0473403931, 0.0819320679, 0.146568298, 0.162727356, -0.0150222778, 0.114250183, "
         "0.0980911255, 0.0172958374",
         "0.82828331, -0.316989899, -0.0624847412, 0.0647678375, 0.573778152, 0.319272995, "
         "-0.0624847412, -0.0624847412"});
}

TEST(QuantVectors, Q6_K_GenK6_Seed4) {
    check_vector({GgmlType::Q6_K, Gen::K6, 4, 256,
                  "-0.102783203, 0.0551757812, 0.0390625, -0.1875, 0.116210938, 0.107666016, "
                  "-0.203125, -0.102050781",
                  "-0.215087891, -0.0876464844, -0.199951172, -0.239990234, -0.0688476562, "
                  "0.231201172, 0.0407714844, 0.0395507812",
                  "f0 f9 26 12 f2 d1 80 d0 40 11 d4 48 26 7d 03 77 cc 4f 9b ea 93 d2 cc 17 47 d1 "
                  "67 7a c1 ee 5c db "
                  "e9 3b 06 f3 5d b2 79 42 fd 3e f5 d0 0a 7c a1 bd c5 d8 72 72 55 09 90 b8 59 05 "
                  "ee 5c b4 20 bc 66 "
                  "f1 bc 90 dc 94 81 bc 99 35 a3 14 8a 69 8a 0b 05 90 f4 42 8b e1 b6 3f 4b b1 81 "
                  "31 96 57 c9 75 02 "
                  "fd b4 6d ed 0e 4c 8c a1 ef db 16 a1 d0 0a c4 f6 75 09 f0 72 a4 ea e1 76 42 55 "
                  "61 13 76 ed 5e 50 "
                  "b1 e2 22 b0 a7 17 c8 b5 37 17 6c 53 4e f0 80 47 bb 63 e4 78 bb e8 44 c9 69 18 "
                  "cd db 35 c1 1e 54 "
                  "88 7f b4 9f cd 0f c8 cd 6b e3 76 83 fe 19 09 06 5e 7b 23 f5 e0 c2 3f cb 2c 4c "
                  "22 13 47 ef a9 86 "
                  "15 34 b6 a6 75 18 33 bc 9b 80 e6 2e 45 9d 83 1a e9 0c",
                  "-0.100696564, 0.0566418171, 0.0377612114, -0.188806057, 0.113283634, "
                  "0.106990099, -0.201393127, -0.100696564",
                  "-0.218175888, -0.085711956, -0.202591896, -0.241551876, -0.070127964, "
                  "0.23375988, 0.03895998, 0.03895998"});
}

// Header fields spelled out in §5 (d, dmin, per-sub-block scales), read from the quantiser's
// own output so a mismatch points at the scale stage rather than the code packing.
uint16_t u16_at(const std::vector<std::byte>& b, size_t off) {
    return static_cast<uint16_t>(std::to_integer<unsigned>(b[off]) |
                                 (std::to_integer<unsigned>(b[off + 1]) << 8));
}

TEST(QuantVectors, DocumentedScaleFields) {
    const auto q8 = quant::quantize_row(GgmlType::Q8_0, generate(Gen::A, 1, 32));
    EXPECT_EQ(u16_at(q8, 0), 0x1f79);
    EXPECT_EQ(f16_to_f32(0x1f79), 0.00729751587f);
    const auto q4 = quant::quantize_row(GgmlType::Q4_0, generate(Gen::A, 2, 32));
    EXPECT_EQ(u16_at(q4, 0), 0xafa6);
    const auto k4 = quant::quantize_row(GgmlType::Q4_K, generate(Gen::K4, 3, 256));
    EXPECT_EQ(u16_at(k4, 0), 0x1823);
    EXPECT_EQ(u16_at(k4, 2), 0x20a5);
    const int sc[8] = {8, 16, 22, 31, 39, 49, 53, 63};
    const int mn[8] = {7, 15, 18, 29, 40, 47, 49, 63};
    for (size_t j = 0; j < 8; ++j) {
        // Unpack per the §2.3 table, independently of the loader's helper.
        const auto S = [&](size_t i) {
            return static_cast<int>(std::to_integer<unsigned>(k4[4 + i]));
        };
        const int got_sc = j < 4 ? (S(j) & 63) : ((S(j + 4) & 15) | ((S(j - 4) >> 6) << 4));
        const int got_m = j < 4 ? (S(j + 4) & 63) : ((S(j + 4) >> 4) | ((S(j) >> 6) << 4));
        EXPECT_EQ(got_sc, sc[j]) << j;
        EXPECT_EQ(got_m, mn[j]) << j;
    }
    const auto k6 = quant::quantize_row(GgmlType::Q6_K, generate(Gen::K6, 4, 256));
    EXPECT_EQ(u16_at(k6, 208), 0x0ce9);
    const int s6[16] = {21, 52, -74, -90, 117, 24, 51, -68, -101, -128, -26, 46, 69, -99, -125, 26};
    for (size_t k = 0; k < 16; ++k)
        EXPECT_EQ(static_cast<int8_t>(std::to_integer<unsigned>(k6[192 + k])), s6[k]) << k;
}

// The quantisers handle multi-block rows block by block: a row of two §5 inputs must give the
// two documented blocks back to back.
TEST(QuantVectors, MultiBlockRowIsConcatenation) {
    std::vector<float> x = generate(Gen::A, 1, 32);
    const std::vector<float> x2 = generate(Gen::A, 2, 32);
    x.insert(x.end(), x2.begin(), x2.end());
    const auto q = quant::quantize_row(GgmlType::Q8_0, x);
    const auto a = quant::quantize_row(GgmlType::Q8_0, std::span<const float>(x).first(32));
    const auto b = quant::quantize_row(GgmlType::Q8_0, std::span<const float>(x).last(32));
    ASSERT_EQ(q.size(), 68u);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), q.begin()));
    EXPECT_TRUE(std::equal(b.begin(), b.end(), q.begin() + 34));
}

// ---------------------------------------------------------------- round-trip error bounds

struct Bound {
    GgmlType type;
    double max_rel_rmse;  // sqrt(Σ(y-x)² / Σx²) over the row
};

// Measured on N(0,1) rows (seeds 0..7, 4096 elements), worst seed: Q8_0 0.0055, Q4_0 0.087,
// Q4_1 0.080, Q5_0 0.044, Q5_1 0.038, Q2_K 0.302, Q3_K 0.157, Q4_K 0.072, Q5_K 0.037,
// Q6_K 0.018, F16 2e-4, BF16 1.6e-3 (Q8_0 matches theory: step amax/127 ~ 0.0167, /sqrt(12)).
// Bounds are ~1.2x that: stable across seeds, yet a wrong sign, a lost high bit or a mis-packed
// scale pushes the error up by far more.
constexpr Bound kBounds[] = {
    {GgmlType::F32, 0.0},     {GgmlType::F16, 3e-4},   {GgmlType::BF16, 2.5e-3},
    {GgmlType::Q8_0, 0.0066}, {GgmlType::Q4_0, 0.105}, {GgmlType::Q4_1, 0.095},
    {GgmlType::Q5_0, 0.052},  {GgmlType::Q5_1, 0.046}, {GgmlType::Q2_K, 0.36},
    {GgmlType::Q3_K, 0.19},   {GgmlType::Q4_K, 0.087}, {GgmlType::Q5_K, 0.044},
    {GgmlType::Q6_K, 0.022},
};

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = static_cast<double>(y[i]) - static_cast<double>(x[i]);
        num += d * d;
        den += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    return std::sqrt(num / den);
}

TEST(QuantRoundTrip, ErrorWithinBoundsOnGaussianRows) {
    for (const Bound& bound : kBounds) {
        for (uint64_t seed = 0; seed < 8; ++seed) {
            SCOPED_TRACE("type " + std::string(traits_of(bound.type).name) + " seed " +
                         std::to_string(seed));
            std::mt19937_64 rng(seed);
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<float> x(4096);
            for (auto& v : x) v = normal(rng);
            const std::vector<std::byte> q = quant::quantize_row(bound.type, x);
            ASSERT_EQ(q.size(), row_bytes(bound.type, x.size()));
            std::vector<float> y(x.size());
            dequantize_row(bound.type, q, y);
            const double err = rel_rmse(x, y);
            EXPECT_LE(err, bound.max_rel_rmse);
            if (std::getenv("VKLLM_PRINT_QUANT_ERR") != nullptr && seed == 0) {
                std::printf("%-6s rel_rmse %.5f\n", std::string(traits_of(bound.type).name).c_str(),
                            err);
            }
        }
    }
}

// A scaled-down/up row must still round-trip (exercises f16 scale precision at both ends) and an
// all-zero row must decode to zeros rather than NaN (d = 0 paths).
TEST(QuantRoundTrip, ZeroAndScaledRows) {
    for (const Bound& bound : kBounds) {
        SCOPED_TRACE(std::string(traits_of(bound.type).name));
        std::vector<float> zeros(512, 0.0f);
        std::vector<float> y(zeros.size());
        dequantize_row(bound.type, quant::quantize_row(bound.type, zeros), y);
        for (float v : y) ASSERT_EQ(v, 0.0f);
        for (float scale : {1e-3f, 100.0f}) {
            SCOPED_TRACE(scale);
            std::mt19937_64 rng(42);
            std::normal_distribution<float> normal(0.0f, scale);
            std::vector<float> x(512);
            for (auto& v : x) v = normal(rng);
            dequantize_row(bound.type, quant::quantize_row(bound.type, x), y);
            // Small rows lose a little relative precision to f16 subnormal scales: allow 1.5x.
            EXPECT_LE(rel_rmse(x, y), bound.max_rel_rmse * 1.5 + 1e-6);
        }
    }
}

// Property from §2.5.2: Q4_0's largest-magnitude element maps to q = 0, so d has the opposite
// sign of that element. Same for Q5_0. Q8_0 keeps d >= 0.
TEST(QuantRoundTrip, LegacySignConventions) {
    std::vector<float> x(32, 0.25f);
    x[5] = 2.0f;  // positive extreme -> negative d
    const auto q4 = quant::quantize_row(GgmlType::Q4_0, x);
    EXPECT_LT(f16_to_f32(static_cast<uint16_t>(std::to_integer<unsigned>(q4[0]) |
                                               (std::to_integer<unsigned>(q4[1]) << 8))),
              0.0f);
    EXPECT_EQ(std::to_integer<unsigned>(q4[2 + 5]) & 15u, 0u);
    const auto q5 = quant::quantize_row(GgmlType::Q5_0, x);
    EXPECT_LT(f16_to_f32(static_cast<uint16_t>(std::to_integer<unsigned>(q5[0]) |
                                               (std::to_integer<unsigned>(q5[1]) << 8))),
              0.0f);
    const auto q8 = quant::quantize_row(GgmlType::Q8_0, x);
    EXPECT_EQ(std::to_integer<int>(q8[2 + 5]), 127);
}

// §5.5 / §5.6: TurboQuant blocks of generator A, seed 5 (one 128-group). The bytes and the
// rotated-domain dequantised values are exact; the rotation of §5.5's `y` is checked to f32
// rounding of the butterfly (it is printed to 9 digits).
struct TurboVector {
    GgmlType type;
    std::string bytes, out_first, out_last;
};

void check_turbo_vector(const TurboVector& v) {
    SCOPED_TRACE(std::string(traits_of(v.type).name));
    const std::vector<float> x = generate(Gen::A, 5, 128);
    const std::vector<std::byte> q = quant::quantize_turbo_row(v.type, x);
    EXPECT_EQ(to_hex(q), to_hex(hex_bytes(v.bytes)));
    std::vector<float> y(128);
    quant::dequantize_turbo_row(v.type, hex_bytes(v.bytes), y);
    expect_floats(y, 0, v.out_first);
    expect_floats(y, 120, v.out_last);
}

TEST(QuantVectors, Turbo3_GenA_Seed5) {
    const std::vector<float> x = generate(Gen::A, 5, 128);
    expect_floats(x, 0,
                  "0.076171875, -0.759765625, -0.893554688, -0.044921875, 0.328125, -0.149414062, "
                  "-0.82421875, -0.424804688");
    expect_floats(x, 120,
                  "-0.541992188, -0.546875, 0.3046875, -0.17578125, 0.194335938, 0.0859375, "
                  "-0.116210938, 0.467773438");
    float n2 = 0.0f;
    for (float v : x) n2 += v * v;
    const float n = std::sqrt(n2);
    EXPECT_NEAR(n, 6.25354071f, 5e-6f);  // §5.5 prints the exact norm; this is the f32 sum
    std::array<float, 128> u{};
    for (size_t i = 0; i < 128; ++i) u[i] = x[i] * (1.0f / n);
    quant::turbo_rotate(u);
    const std::vector<float> y8 = decimals(
        "0.0435066298, 0.0179161299, -0.0632171333, 0.148822516, -0.0651219189, 0.0160665344, "
        "0.0215600785, 0.0446108617");
    for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(u[i], y8[i], 2e-9f) << i;
    const uint32_t first16[16] = {4, 4, 2, 6, 2, 4, 4, 5, 3, 7, 5, 5, 2, 6, 5, 2};
    for (size_t i = 0; i < 16; ++i) {
        EXPECT_EQ(quant::turbo_index(GgmlType::TURBO3_0, u[i]), first16[i]) << i;
    }
    check_turbo_vector(
        {GgmlType::TURBO3_0,
         "4f 46 a0 42 5f 9a df fa 24 b5 5c 44 17 54 d5 b6 5b ec c1 b1 e2 a1 c2 be 29 ec f4 e6 49 "
         "0d c9 a8 3d 91 eb 6e 44 8b fd 6c 25 d0 64 c3 06 39 22 a5 15 35",
         "0.135382429, 0.135382429, -0.414581835, 0.743354201, -0.414581835, 0.135382429, "
         "0.135382429, 0.414581835",
         "0.414581835, -0.135382429, 1.20295417, -1.20295417, 0.414581835, 0.135382429, "
         "-0.743354201, -0.414581835"});
}

TEST(QuantVectors, Turbo2AndTurbo4_GenA_Seed5) {
    check_turbo_vector(
        {GgmlType::TURBO2_0,
         "1e 47 da a9 ad 6d 65 75 9a d0 a6 aa a1 28 62 5d 05 f6 60 78 5b f0 69 55 96 5e 58 58 26 "
         "8c 66 56 36 4a",
         "0.284644812, 0.284644812, -0.284644812, 0.949874043, -0.284644812, 0.284644812, "
         "0.284644812, 0.284644812",
         "0.284644812, -0.284644812, 0.949874043, -0.949874043, 0.284644812, 0.284644812, "
         "-0.949874043, -0.284644812"});
    check_turbo_vector(
        {GgmlType::TURBO4_0,
         "91 46 00 00 9b f3 93 b9 f6 cc d3 3c 75 6b 34 5f ba 94 21 e6 5a db c8 d9 16 ad c0 1b 2c "
         "5b d3 36 36 11 79 fd 01 5a 91 4f 8e 54 01 ed a3 5a 74 35 2c 94 f8 52 b0 77 b2 73 2c 1a "
         "f2 80 4d 68 48 34 5c 0f 8c 31",
         "0.336607099, 0.1378223, -0.451479822, 1.14206874, -0.451479822, 0.1378223, 0.1378223, "
         "0.336607099",
         "0.451479822, -0.233744368, 1.14206874, -1.14206874, 0.451479822, 0.0455577262, "
         "-0.769550025, -0.451479822"});
}

// §5.7: F e_0 = s1_0 * s2 / sqrt(128); F^T F = I to f32 rounding; an all-zero group decodes to
// zeros; the reconstruction F^T dequant(x) keeps x's norm (norm correction) and its error is the
// codebook's (relative L2 ~0.18 for turbo3 on §5.5's row).
TEST(QuantVectors, TurboRotationAndRoundTrip) {
    std::array<float, 128> e0{};
    e0[0] = 1.0f;
    quant::turbo_rotate(e0);
    for (size_t i = 0; i < 128; ++i) {
        EXPECT_EQ(e0[i], -quant::turbo_sign2(i) * 0.0883883461f) << i;
    }
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::array<float, 128> v{}, w{};
    for (auto& x : v) x = normal(rng);
    w = v;
    quant::turbo_rotate(w);
    quant::turbo_unrotate(w);
    for (size_t i = 0; i < 128; ++i) EXPECT_NEAR(w[i], v[i], 1e-6f * (1.0f + std::fabs(v[i])));
    for (GgmlType t : {GgmlType::TURBO2_0, GgmlType::TURBO3_0, GgmlType::TURBO4_0}) {
        SCOPED_TRACE(std::string(traits_of(t).name));
        std::vector<float> zeros(256, 0.0f), y(256);
        quant::dequantize_turbo_row(t, quant::quantize_turbo_row(t, zeros), y);
        for (float x : y) ASSERT_EQ(x, 0.0f);
        const std::vector<float> x = generate(Gen::A, 5, 128);
        std::vector<float> d(128);
        quant::dequantize_turbo_row(t, quant::quantize_turbo_row(t, x), d);
        std::array<float, 128> r{};
        std::copy(d.begin(), d.end(), r.begin());
        quant::turbo_unrotate(r);
        double nx = 0, nr = 0, err = 0;
        for (size_t i = 0; i < 128; ++i) {
            const double xi = x[i], ri = r[i];
            nx += xi * xi;
            nr += ri * ri;
            err += (ri - xi) * (ri - xi);
        }
        EXPECT_NEAR(std::sqrt(nr), std::sqrt(nx), 2e-3 * std::sqrt(nx));
        const double rel = std::sqrt(err / nx);
        const double bound = t == GgmlType::TURBO2_0 ? 0.40 : t == GgmlType::TURBO3_0 ? 0.20 : 0.16;
        EXPECT_LT(rel, bound);
        if (t == GgmlType::TURBO3_0) {
            EXPECT_NEAR(rel, 0.1828, 5e-4);
        }
    }
    EXPECT_THROW(quant::quantize_turbo_row(GgmlType::TURBO3_0, std::vector<float>(100)),
                 std::invalid_argument);
    EXPECT_THROW(quant::quantize_turbo_row(GgmlType::Q8_0, std::vector<float>(128)),
                 std::invalid_argument);
}

}  // namespace
}  // namespace vkllm
