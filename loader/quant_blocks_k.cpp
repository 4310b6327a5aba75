// K-quant super-block decoders (formats.md §2.3). All use 256-element super-blocks; the
// element-index decompositions below mirror the spec's `e = 128h + 32s + l` style formulas.

#include "loader/quant_blocks_detail.h"

// Bit-exactness (vs llama.cpp and the §5 vectors) needs a*b+c rounded twice; clang would
// otherwise contract it into an FMA on targets that have one. GCC in ISO mode does not contract.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace vkllm::qdetail {
namespace {

float fi(int v) {
    return static_cast<float>(v);
}

}  // namespace

// 84 bytes: scales[16] @0, qs[64] @16, d @80, dmin @82. 16 sub-blocks of 16 elements.
void dequant_q2_k(const std::byte* b, float* y) {
    const float d = f16le(b, 80);
    const float dmin = f16le(b, 82);
    for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
            for (int l = 0; l < 32; ++l) {
                const int q = (u8(b, static_cast<size_t>(16 + 32 * h + l)) >> (2 * s)) & 3;
                const auto k = static_cast<size_t>(8 * h + 2 * s + (l >= 16 ? 1 : 0));
                const float dl = d * fi(u8(b, k) & 15);     // low nibble: scale
                const float ml = dmin * fi(u8(b, k) >> 4);  // high nibble: min
                y[128 * h + 32 * s + l] = dl * fi(q) - ml;
            }
        }
    }
}

// 110 bytes: hmask[32] @0, qs[64] @32, scales[12] @96, d @108. Signed 6-bit scales, offset 32.
void dequant_q3_k(const std::byte* b, float* y) {
    const std::byte* S = b + 96;
    const float d = f16le(b, 108);
    int sc[16];
    for (int k = 0; k < 16; ++k) {
        const auto uk = static_cast<size_t>(k);
        const int low = k < 8 ? (u8(S, uk) & 15) : (u8(S, uk - 8) >> 4);
        const int high = (u8(S, 8 + uk % 4) >> (2 * (k / 4))) & 3;
        sc[k] = (low | (high << 4)) - 32;
    }
    for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
            for (int l = 0; l < 32; ++l) {
                const int q2 = (u8(b, static_cast<size_t>(32 + 32 * h + l)) >> (2 * s)) & 3;
                const int hb = (u8(b, static_cast<size_t>(l)) >> (4 * h + s)) & 1;
                const int q = q2 - (hb != 0 ? 0 : 4);  // a CLEAR hmask bit means subtract 4
                const int k = 8 * h + 2 * s + (l >= 16 ? 1 : 0);
                y[128 * h + 32 * s + l] = (d * fi(sc[k])) * fi(q);
            }
        }
    }
}

// 144 bytes: d @0, dmin @2, scales[12] @4, qs[128] @16. 8 sub-blocks of 32.
void dequant_q4_k(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const float dmin = f16le(b, 2);
    for (int c = 0; c < 4; ++c) {
        for (int p = 0; p < 2; ++p) {
            uint8_t sc = 0;
            uint8_t m = 0;
            scale_min_k4(b + 4, 2 * c + p, sc, m);
            const float d1 = d * fi(sc);
            const float m1 = dmin * fi(m);  // stored min is subtracted
            for (int l = 0; l < 32; ++l) {
                const int byte = u8(b, static_cast<size_t>(16 + 32 * c + l));
                const int q = p == 0 ? (byte & 15) : (byte >> 4);
                y[64 * c + 32 * p + l] = d1 * fi(q) - m1;
            }
        }
    }
}

// 176 bytes: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48.
void dequant_q5_k(const std::byte* b, float* y) {
    const float d = f16le(b, 0);
    const float dmin = f16le(b, 2);
    for (int c = 0; c < 4; ++c) {
        for (int p = 0; p < 2; ++p) {
            uint8_t sc = 0;
            uint8_t m = 0;
            scale_min_k4(b + 4, 2 * c + p, sc, m);
            const float d1 = d * fi(sc);
            const float m1 = dmin * fi(m);
            for (int l = 0; l < 32; ++l) {
                const int byte = u8(b, static_cast<size_t>(48 + 32 * c + l));
                const int low = p == 0 ? (byte & 15) : (byte >> 4);
                const int hb = (u8(b, static_cast<size_t>(16 + l)) >> (2 * c + p)) & 1;
                y[64 * c + 32 * p + l] = d1 * fi(low + 16 * hb) - m1;
            }
        }
    }
}

// 210 bytes: ql[128] @0, qh[64] @128, scales:i8[16] @192, d @208.
void dequant_q6_k(const std::byte* b, float* y) {
    const float d = f16le(b, 208);
    for (int h = 0; h < 2; ++h) {
        for (int t = 0; t < 4; ++t) {
            for (int l = 0; l < 32; ++l) {
                // t = 0,1 take low nibbles of ql[64h+l], ql[64h+l+32]; t = 2,3 the high ones.
                const auto ql_idx = static_cast<size_t>(64 * h + l + 32 * (t % 2));
                const int low = (u8(b, ql_idx) >> (4 * (t / 2))) & 15;
                const int high = (u8(b, static_cast<size_t>(128 + 32 * h + l)) >> (2 * t)) & 3;
                const int q = (low | (high << 4)) - 32;
                const auto k = static_cast<size_t>(8 * h + 2 * t + l / 16);
                const float sc = fi(static_cast<int8_t>(u8(b, 192 + k)));
                y[128 * h + 32 * t + l] = (d * sc) * fi(q);
            }
        }
    }
}

}  // namespace vkllm::qdetail
