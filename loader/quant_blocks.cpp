// Legacy 32-element formats, IQ4_NL/IQ4_XS/MXFP4, plain floats, and the row dispatcher
// (formats.md §2.1, §2.2, §2.4). K-quants live in quant_blocks_k.cpp.

#include "loader/quant_blocks.h"

#include <stdexcept>
#include <string>

#include "loader/quant_blocks_detail.h"

// Bit-exactness (vs llama.cpp and the §5 vectors) needs a*b+c rounded twice; clang would
// otherwise contract it into an FMA on targets that have one. GCC in ISO mode does not contract.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace vkllm {
namespace {

using qdetail::f16le;
using qdetail::u16le;
using qdetail::u32le;
using qdetail::u8;

constexpr int kIq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                            1,    13,   25,  38,  53,  69,  89,  113};
// E2M1 values doubled; index 8 is "-0" and decodes as 0.
constexpr int kFp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

float fi(int v) {
    return static_cast<float>(v);
}

// Nibble q for element e of a 32-element block whose qs[16] starts at `qs`: element j sits in
// the LOW nibble of qs[j], element j+16 in the HIGH nibble (not consecutive pairs).
int nibble32(const std::byte* qs, int e) {
    const auto j = static_cast<size_t>(e % 16);
    return e < 16 ? (u8(qs, j) & 15) : (u8(qs, j) >> 4);
}

void dequant_f32(const std::byte* b, float* y) {
    std::memcpy(y, b, sizeof(float));
}
void dequant_f16(const std::byte* b, float* y) {
    *y = f16le(b, 0);
}
void dequant_bf16(const std::byte* b, float* y) {
    *y = bf16_to_f32(u16le(b, 0));
}

void dequant_q4_0(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    for (int e = 0; e < 32; ++e) y[e] = fi(nibble32(b + 2, e) - 8) * d;
}

void dequant_q4_1(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const float m = f16le(b, 2);
    for (int e = 0; e < 32; ++e) y[e] = fi(nibble32(b + 4, e)) * d + m;
}

// Bit e of the little-endian u32 qh is bit 4 of element e.
int q5(const std::byte* qs, uint32_t qh, int e) {
    return nibble32(qs, e) | static_cast<int>(((qh >> e) & 1u) << 4);
}

void dequant_q5_0(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const uint32_t qh = u32le(b, 2);
    for (int e = 0; e < 32; ++e) y[e] = fi(q5(b + 6, qh, e) - 16) * d;
}

void dequant_q5_1(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const float m = f16le(b, 2);
    const uint32_t qh = u32le(b, 4);
    for (int e = 0; e < 32; ++e) y[e] = fi(q5(b + 8, qh, e)) * d + m;
}

void dequant_q8_0(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    for (size_t e = 0; e < 32; ++e) y[e] = fi(static_cast<int8_t>(u8(b, 2 + e))) * d;
}

void dequant_iq4_nl(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    for (int e = 0; e < 32; ++e) y[e] = d * fi(kIq4nl[nibble32(b + 2, e)]);
}

void dequant_iq4_xs(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const uint16_t scales_h = u16le(b, 2);
    for (int s = 0; s < 8; ++s) {
        const auto us = static_cast<size_t>(s);
        const int lo = (u8(b, 4 + us / 2) >> (4 * (s % 2))) & 15;
        const int hi = (scales_h >> (2 * s)) & 3;
        const float dl = d * fi((lo | (hi << 4)) - 32);
        for (int e = 0; e < 32; ++e) y[32 * s + e] = dl * fi(kIq4nl[nibble32(b + 8 + 16 * us, e)]);
    }
}

void dequant_mxfp4(const std::byte* b, float* y) {
    const float s = e8m0_to_f32_half(u8(b, 0));
    for (int e = 0; e < 32; ++e) y[e] = fi(kFp4[nibble32(b + 1, e)]) * s;
}

using BlockFn = void (*)(const std::byte*, float*);

BlockFn decoder_for(GgmlType type) {
    switch (type) {
        case GgmlType::F32:
            return dequant_f32;
        case GgmlType::F16:
            return dequant_f16;
        case GgmlType::BF16:
            return dequant_bf16;
        case GgmlType::Q4_0:
            return dequant_q4_0;
        case GgmlType::Q4_1:
            return dequant_q4_1;
        case GgmlType::Q5_0:
            return dequant_q5_0;
        case GgmlType::Q5_1:
            return dequant_q5_1;
        case GgmlType::Q8_0:
            return dequant_q8_0;
        case GgmlType::Q2_K:
            return qdetail::dequant_q2_k;
        case GgmlType::Q3_K:
            return qdetail::dequant_q3_k;
        case GgmlType::Q4_K:
            return qdetail::dequant_q4_k;
        case GgmlType::Q5_K:
            return qdetail::dequant_q5_k;
        case GgmlType::Q6_K:
            return qdetail::dequant_q6_k;
        case GgmlType::IQ4_NL:
            return dequant_iq4_nl;
        case GgmlType::IQ4_XS:
            return dequant_iq4_xs;
        case GgmlType::MXFP4:
            return dequant_mxfp4;
        default:
            return nullptr;
    }
}

}  // namespace

bool can_dequantize(GgmlType type) {
    return decoder_for(type) != nullptr;
}

void dequantize_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst) {
    const BlockFn fn = decoder_for(type);
    if (fn == nullptr) {
        throw std::invalid_argument("dequantize_row: unsupported type id " +
                                    std::to_string(static_cast<uint32_t>(type)));
    }
    const GgmlTypeTraits t = traits_of(type);
    if (dst.size() % t.block_elems != 0) {
        throw std::invalid_argument("dequantize_row: " + std::to_string(dst.size()) +
                                    " elements is not a multiple of the block size");
    }
    const size_t n_blocks = dst.size() / t.block_elems;
    if (src.size() != n_blocks * t.block_bytes) {
        throw std::invalid_argument("dequantize_row: expected " +
                                    std::to_string(n_blocks * t.block_bytes) + " bytes, got " +
                                    std::to_string(src.size()));
    }
    for (size_t i = 0; i < n_blocks; ++i) {
        fn(src.data() + i * t.block_bytes, dst.data() + i * t.block_elems);
    }
}

}  // namespace vkllm
