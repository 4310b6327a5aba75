// Reference quantisers for plain floats and the legacy 32-element formats (formats.md §2.5.1,
// §2.5.2), plus the dispatcher. Arithmetic is kept in f32 in the spec's order on purpose: the
// Q8_0 and Q4_0 outputs must be bit-identical to llama.cpp's quantize_row_*_ref.

#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "quant/quantize_detail.h"

// Bit-exactness (vs llama.cpp and the §5 vectors) needs a*b+c rounded twice; clang would
// otherwise contract it into an FMA on targets that have one. GCC in ISO mode does not contract.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace vkllm::quant {
namespace {

using detail::put_f16;
using detail::put_u16;
using detail::put_u8;

void quant_f32(const float* x, std::byte* b) {
    std::memcpy(b, x, sizeof(float));
}
void quant_f16(const float* x, std::byte* b) {
    put_f16(b, 0, *x);
}
void quant_bf16(const float* x, std::byte* b) {
    put_u16(b, 0, f32_to_bf16(*x));
}

// §2.5.1: d = amax/127 (the f32 d, not its f16 rounding, drives the codes); roundf = half away.
void quant_q8_0(const float* x, std::byte* b) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(b, 0, d);
    for (size_t i = 0; i < 32; ++i) put_u8(b, 2 + i, static_cast<int>(std::roundf(x[i] * id)));
}

// Signed value of the first largest-magnitude element (strict >, so ties keep the first).
float signed_absmax(const float* x) {
    float amax = 0.0f;
    float mx = 0.0f;
    for (int i = 0; i < 32; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            mx = x[i];
        }
    }
    return mx;
}

// §2.5.2: d has the opposite sign of the extreme element so that element maps to q = 0 exactly.
// trunc(x*id + 8.5) is llama.cpp's (int8_t) cast; each step is rounded to f32.
void quant_q4_0(const float* x, std::byte* b) {
    const float d = signed_absmax(x) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(b, 0, d);
    for (size_t j = 0; j < 16; ++j) {
        const float x0 = x[j] * id;
        const float x1 = x[j + 16] * id;
        const int a = std::min(15, static_cast<int>(x0 + 8.5f));
        const int c = std::min(15, static_cast<int>(x1 + 8.5f));
        put_u8(b, 2 + j, a | (c << 4));
    }
}

// Q5_0: same scheme as Q4_0 with 32 levels; bit 4 of element e goes to bit e of qh. Written to
// the same structure as llama.cpp's reference (not covered by a §5 vector).
void quant_q5_0(const float* x, std::byte* b) {
    const float d = signed_absmax(x) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(b, 0, d);
    uint32_t qh = 0;
    for (size_t j = 0; j < 16; ++j) {
        const int a = std::min(31, static_cast<int>(x[j] * id + 16.5f));
        const int c = std::min(31, static_cast<int>(x[j + 16] * id + 16.5f));
        put_u8(b, 6 + j, (a & 15) | ((c & 15) << 4));
        qh |= static_cast<uint32_t>(a >> 4) << j;
        qh |= static_cast<uint32_t>(c >> 4) << (j + 16);
    }
    put_u16(b, 2, static_cast<uint16_t>(qh & 0xFFFFu));
    put_u16(b, 4, static_cast<uint16_t>(qh >> 16));
}

// Q4_1 / Q5_1: affine min/max scheme, d = (max-min)/nmax, m = min, codes round half up.
// Written to the same structure as llama.cpp's reference (not covered by a §5 vector).
void quant_affine(const float* x, std::byte* b, int nmax, bool five_bit) {
    float mn = x[0];
    float mx = x[0];
    for (int i = 1; i < 32; ++i) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    const float d = (mx - mn) / static_cast<float>(nmax);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(b, 0, d);
    put_f16(b, 2, mn);
    const size_t qs_off = five_bit ? 8 : 4;
    uint32_t qh = 0;
    for (size_t j = 0; j < 16; ++j) {
        const int a = std::min(nmax, static_cast<int>((x[j] - mn) * id + 0.5f));
        const int c = std::min(nmax, static_cast<int>((x[j + 16] - mn) * id + 0.5f));
        put_u8(b, qs_off + j, (a & 15) | ((c & 15) << 4));
        qh |= static_cast<uint32_t>(a >> 4) << j;
        qh |= static_cast<uint32_t>(c >> 4) << (j + 16);
    }
    if (five_bit) {
        put_u16(b, 4, static_cast<uint16_t>(qh & 0xFFFFu));
        put_u16(b, 6, static_cast<uint16_t>(qh >> 16));
    }
}

void quant_q4_1(const float* x, std::byte* b) {
    quant_affine(x, b, 15, false);
}
void quant_q5_1(const float* x, std::byte* b) {
    quant_affine(x, b, 31, true);
}

using BlockFn = void (*)(const float*, std::byte*);

BlockFn encoder_for(GgmlType type) {
    switch (type) {
        case GgmlType::F32:
            return quant_f32;
        case GgmlType::F16:
            return quant_f16;
        case GgmlType::BF16:
            return quant_bf16;
        case GgmlType::Q4_0:
            return quant_q4_0;
        case GgmlType::Q4_1:
            return quant_q4_1;
        case GgmlType::Q5_0:
            return quant_q5_0;
        case GgmlType::Q5_1:
            return quant_q5_1;
        case GgmlType::Q8_0:
            return quant_q8_0;
        case GgmlType::Q2_K:
            return detail::quant_q2_k;
        case GgmlType::Q3_K:
            return detail::quant_q3_k;
        case GgmlType::Q4_K:
            return detail::quant_q4_k;
        case GgmlType::Q5_K:
            return detail::quant_q5_k;
        case GgmlType::Q6_K:
            return detail::quant_q6_k;
        default:
            return nullptr;
    }
}

}  // namespace

bool can_quantize(GgmlType type) {
    return encoder_for(type) != nullptr;
}

std::vector<std::byte> quantize_row(GgmlType type, std::span<const float> src) {
    const BlockFn fn = encoder_for(type);
    if (fn == nullptr) {
        throw std::invalid_argument("quantize_row: unsupported type id " +
                                    std::to_string(static_cast<uint32_t>(type)));
    }
    const GgmlTypeTraits t = traits_of(type);
    if (src.size() % t.block_elems != 0) {
        throw std::invalid_argument("quantize_row: " + std::to_string(src.size()) +
                                    " elements is not a multiple of the block size");
    }
    const size_t n_blocks = src.size() / t.block_elems;
    std::vector<std::byte> out(n_blocks * t.block_bytes);
    for (size_t i = 0; i < n_blocks; ++i) {
        fn(src.data() + i * t.block_elems, out.data() + i * t.block_bytes);
    }
    return out;
}

}  // namespace vkllm::quant
