// K-quant reference quantisers (formats.md §2.5.3, §2.5.4). Q4_K (make_qkx2_quants) and Q6_K
// (make_qx_quants) reproduce llama.cpp's no-imatrix bytes exactly, so every f32 operation below
// is in the spec's order: do not "simplify" the arithmetic. Q5_K and Q2_K reuse the documented
// skeleton with the parameters §2.5.3 lists; Q3_K is NOT llama.cpp's make_q3_quants algorithm
// (the spec does not give it) but a valid, reasonable encoder built from make_qx_quants.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "loader/quant_blocks_detail.h"
#include "quant/quantize_detail.h"

// Bit-exactness (vs llama.cpp and the §5 vectors) needs a*b+c rounded twice; clang would
// otherwise contract it into an FMA on targets that have one. GCC in ISO mode does not contract.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace vkllm::quant::detail {
namespace {

float fi(int v) {
    return static_cast<float>(v);
}

struct SearchParams {
    int nmax;
    float rmin;
    float rdelta;
    int nstep;
    bool use_mad;  // mean absolute instead of squared error (Q2_K)
};

// Weighted error of codes L against x for the affine map scale*L + mn.
float affine_error(int n, const float* x, const float* w, const uint8_t* L, float scale, float mn,
                   bool mad) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float diff = scale * fi(L[i]) + mn - x[i];
        err += w[i] * (mad ? std::fabs(diff) : diff * diff);
    }
    return err;
}

void affine_codes(int n, const float* x, float is, float mn, int nmax, uint8_t* L) {
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(std::clamp(nearest_int(is * (x[i] - mn)), 0, nmax));
    }
}

// make_qkx2_quants ("SEARCH" in §2.5.3): returns the scale, writes the (non-negative) min.
float search_qkx2(int n, const float* x, const float* w, const SearchParams& p, uint8_t* L,
                  float& min_out) {
    float mn = x[0];
    float mx = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0;
    if (mx == mn) {
        std::fill(L, L + n, uint8_t{0});
        min_out = -mn;
        return 0.0f;
    }
    float is = fi(p.nmax) / (mx - mn);
    float scale = 1 / is;
    affine_codes(n, x, is, mn, p.nmax, L);
    float best = affine_error(n, x, w, L, scale, mn, p.use_mad);
    uint8_t La[32];
    for (int k = 0; k <= p.nstep; ++k) {
        is = (p.rmin + p.rdelta * fi(k) + fi(p.nmax)) / (mx - mn);
        affine_codes(n, x, is, mn, p.nmax, La);
        float sl = 0.0f, sl2 = 0.0f, sxl = 0.0f;
        for (int i = 0; i < n; ++i) {
            const float wl = w[i] * fi(La[i]);
            sl += wl;
            sl2 += wl * fi(La[i]);
            sxl += wl * x[i];
        }
        const float D = sum_w * sl2 - sl * sl;
        if (!(D > 0)) continue;
        float a = (sum_w * sxl - sum_x * sl) / D;
        float bmin = (sl2 * sum_x - sl * sxl) / D;
        if (bmin > 0) {
            bmin = 0;
            a = sxl / sl2;
        }
        const float err = affine_error(n, x, w, La, a, bmin, p.use_mad);
        if (err < best) {
            std::copy(La, La + n, L);
            best = err;
            scale = a;
            mn = bmin;
        }
    }
    min_out = -mn;
    return scale;
}

// Accumulates Σ(w·x)·l and Σ(w·l)·l with w = x² for codes clamp(nint(is·x), -nmax, nmax-1).
void qx_sums(int n, const float* x, float is, int nmax, float& slx, float& sl2) {
    slx = 0.0f;
    sl2 = 0.0f;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearest_int(is * x[i]), -nmax, nmax - 1);
        const float w = x[i] * x[i];
        slx += w * x[i] * fi(l);
        sl2 += w * fi(l) * fi(l);
    }
}

void qx_codes(int n, const float* x, float is, int nmax, uint8_t* L) {
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(nmax + std::clamp(nearest_int(is * x[i]), -nmax, nmax - 1));
    }
}

// make_qx_quants with rmse_type = 1 (§2.5.4). Codes are stored offset by nmax.
float make_qx(int n, const float* x, int nmax, uint8_t* L) {
    float amax = 0.0f;
    float xm = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            xm = x[i];
        }
    }
    if (amax < 1e-15f) {
        std::fill(L, L + n, uint8_t{0});
        return 0.0f;
    }
    float is = fi(-nmax) / xm;
    qx_codes(n, x, is, nmax, L);
    float slx = 0.0f, sl2 = 0.0f;
    qx_sums(n, x, is, nmax, slx, sl2);
    float scale = sl2 != 0.0f ? slx / sl2 : 0.0f;
    float best = scale * slx;
    for (int t = -9; t <= 9; ++t) {
        if (t == 0) continue;
        is = -(fi(nmax) + 0.1f * fi(t)) / xm;
        qx_sums(n, x, is, nmax, slx, sl2);
        if (sl2 > 0 && slx * slx > best * sl2) {
            qx_codes(n, x, is, nmax, L);
            scale = slx / sl2;
            best = scale * slx;
        }
    }
    return scale;
}

// Q4_K/Q5_K 6-bit scale/min packing (inverse of get_scale_min_k4, §2.3 table).
void pack_scale_min_k4(std::byte* S, const uint8_t* ls, const uint8_t* lm) {
    for (size_t j = 0; j < 4; ++j) {
        put_u8(S, j, ls[j] | ((ls[j + 4] >> 4) << 6));
        put_u8(S, j + 4, lm[j] | ((lm[j + 4] >> 4) << 6));
        put_u8(S, j + 8, (ls[j + 4] & 15) | ((lm[j + 4] & 15) << 4));
    }
}

// Shared Q4_K/Q5_K super-block logic: 8 SEARCHes, 6-bit scale/min, re-quantise against the
// stored f16 values. Writes d/dmin/scales at b[0..16) and the codes (0..nmax) to L.
void kquant_scale_min(const float* x, std::byte* b, const SearchParams& p, uint8_t* L) {
    float scales[8], mins[8], w[32];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        const float* xj = x + 32 * j;
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; ++l) sum_x2 += xj[l] * xj[l];
        const float av = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) w[l] = av + std::fabs(xj[l]);
        scales[j] = search_qkx2(32, xj, w, p, L + 32 * j, mins[j]);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_s = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_m = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        // uint8_t truncation then min(63) is what llama.cpp does; it only matters if a scale
        // came out negative, which the search should not produce.
        ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_s * scales[j])));
        lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_m * mins[j])));
    }
    put_f16(b, 0, max_scale / 63.0f);
    put_f16(b, 2, max_min / 63.0f);
    pack_scale_min_k4(b + 4, ls, lm);
    const float d = f16_to_f32(f32_to_f16(max_scale / 63.0f));
    const float dmin = f16_to_f32(f32_to_f16(max_min / 63.0f));
    for (int j = 0; j < 8; ++j) {
        uint8_t sc = 0, m = 0;
        qdetail::scale_min_k4(b + 4, j, sc, m);
        const float dd = d * fi(sc);
        if (dd == 0.0f) continue;
        const float dm = dmin * fi(m);
        for (int i = 32 * j; i < 32 * j + 32; ++i) {
            L[i] = static_cast<uint8_t>(std::clamp(nearest_int((x[i] + dm) / dd), 0, p.nmax));
        }
    }
}

}  // namespace

void quant_q4_k(const float* x, std::byte* b) {
    uint8_t L[256];
    kquant_scale_min(x, b, SearchParams{15, -1.0f, 0.1f, 20, false}, L);
    for (size_t c = 0; c < 4; ++c) {
        for (size_t l = 0; l < 32; ++l)
            put_u8(b, 16 + 32 * c + l, L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void quant_q5_k(const float* x, std::byte* b) {
    uint8_t L[256];
    kquant_scale_min(x, b, SearchParams{31, -0.5f, 0.1f, 15, false}, L);
    std::memset(b + 16, 0, 32);  // qh is OR-ed into below
    for (size_t c = 0; c < 4; ++c) {
        for (size_t l = 0; l < 32; ++l) {
            const int lo = L[64 * c + l];
            const int hi = L[64 * c + 32 + l];
            put_u8(b, 48 + 32 * c + l, (lo & 15) | ((hi & 15) << 4));
            const int qh = std::to_integer<int>(b[16 + l]) | ((lo >> 4) << (2 * c)) |
                           ((hi >> 4) << (2 * c + 1));
            put_u8(b, 16 + l, qh);
        }
    }
}

// Q2_K: 16 sub-blocks of 16, w = |x|, mean absolute error, 4-bit scales and mins (§2.5.3 tail).
void quant_q2_k(const float* x, std::byte* b) {
    uint8_t L[256];
    float scales[16], mins[16], w[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
        scales[j] = search_qkx2(16, x + 16 * j, w, SearchParams{3, -0.5f, 0.1f, 15, true},
                                L + 16 * j, mins[j]);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_s = max_scale > 0 ? 15.0f / max_scale : 0.0f;
    const float inv_m = max_min > 0 ? 15.0f / max_min : 0.0f;
    for (size_t j = 0; j < 16; ++j) {
        const int ls = std::clamp(nearest_int(inv_s * scales[j]), 0, 15);
        const int lm = std::clamp(nearest_int(inv_m * mins[j]), 0, 15);
        put_u8(b, j, ls | (lm << 4));
    }
    put_f16(b, 80, max_scale / 15.0f);
    put_f16(b, 82, max_min / 15.0f);
    const float d = f16_to_f32(f32_to_f16(max_scale / 15.0f));
    const float dmin = f16_to_f32(f32_to_f16(max_min / 15.0f));
    for (int j = 0; j < 16; ++j) {
        const int packed = std::to_integer<int>(b[j]);
        const float dd = d * fi(packed & 15);
        if (dd == 0.0f) continue;
        const float dm = dmin * fi(packed >> 4);
        for (int i = 16 * j; i < 16 * j + 16; ++i) {
            L[i] = static_cast<uint8_t>(std::clamp(nearest_int((x[i] + dm) / dd), 0, 3));
        }
    }
    for (size_t h = 0; h < 2; ++h) {
        for (size_t l = 0; l < 32; ++l) {
            const uint8_t* Lh = L + 128 * h;
            put_u8(b, 16 + 32 * h + l,
                   Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
        }
    }
}

// Largest-|v| entry of 16 sub-block scales, sign kept (strict >).
float signed_max_scale(const float* scales) {
    float amax = 0.0f, ms = 0.0f;
    for (int k = 0; k < 16; ++k) {
        if (std::fabs(scales[k]) > amax) {
            amax = std::fabs(scales[k]);
            ms = scales[k];
        }
    }
    return ms;
}

// Q3_K: make_qx (nmax 4) per 16-element sub-block, signed 6-bit scales stored +32. Not the
// llama.cpp algorithm (make_q3_quants); any valid encoding decodes identically.
void quant_q3_k(const float* x, std::byte* b) {
    uint8_t L[256];
    float scales[16];
    for (int k = 0; k < 16; ++k) scales[k] = make_qx(16, x + 16 * k, 4, L + 16 * k);
    const float ms = signed_max_scale(scales);
    std::memset(b, 0, 110);
    float d = 0.0f;
    if (std::fabs(ms) >= 1e-15f) {
        const float is = -32.0f / ms;
        for (size_t k = 0; k < 16; ++k) {
            const int l = std::clamp(nearest_int(is * scales[k]), -32, 31) + 32;
            const size_t lo_idx = k < 8 ? k : k - 8;
            put_u8(b, 96 + lo_idx,
                   std::to_integer<int>(b[96 + lo_idx]) | ((l & 15) << (k < 8 ? 0 : 4)));
            put_u8(b, 104 + k % 4,
                   std::to_integer<int>(b[104 + k % 4]) | ((l >> 4) << (2 * (k / 4))));
        }
        put_f16(b, 108, 1 / is);
        d = f16_to_f32(f32_to_f16(1 / is));
    }
    for (int k = 0; k < 16; ++k) {
        const auto uk = static_cast<size_t>(k);
        const int low = k < 8 ? (std::to_integer<int>(b[96 + uk]) & 15)
                              : (std::to_integer<int>(b[96 + uk - 8]) >> 4);
        const int high = (std::to_integer<int>(b[104 + uk % 4]) >> (2 * (k / 4))) & 3;
        const float dd = d * fi((low | (high << 4)) - 32);
        if (dd == 0.0f) continue;
        for (int i = 16 * k; i < 16 * k + 16; ++i) {
            L[i] = static_cast<uint8_t>(std::clamp(nearest_int(x[i] / dd), -4, 3) + 4);
        }
    }
    for (size_t e = 0; e < 256; ++e) {
        // Element e: low 2 bits in qs (as Q2_K), bit 2 in hmask[e % 32] bit e / 32.
        if (L[e] > 3) put_u8(b, e % 32, std::to_integer<int>(b[e % 32]) | (1 << (e / 32)));
    }
    for (size_t h = 0; h < 2; ++h) {
        for (size_t l = 0; l < 32; ++l) {
            const uint8_t* Lh = L + 128 * h;
            put_u8(b, 32 + 32 * h + l,
                   (Lh[l] & 3) | ((Lh[l + 32] & 3) << 2) | ((Lh[l + 64] & 3) << 4) |
                       ((Lh[l + 96] & 3) << 6));
        }
    }
}

// §2.5.4: 16 make_qx (nmax 32) sub-blocks, int8 scales with the largest at -128, re-quantise.
void quant_q6_k(const float* x, std::byte* b) {
    uint8_t L[256];
    float scales[16];
    for (int k = 0; k < 16; ++k) scales[k] = make_qx(16, x + 16 * k, 32, L + 16 * k);
    const float ms = signed_max_scale(scales);
    std::memset(b, 0, 210);
    if (std::fabs(ms) < 1e-15f) return;
    const float is = -128.0f / ms;
    put_f16(b, 208, 1 / is);
    const float d = f16_to_f32(f32_to_f16(1 / is));
    for (int k = 0; k < 16; ++k) {
        const int sc = std::min(127, nearest_int(is * scales[k]));
        put_u8(b, 192 + static_cast<size_t>(k), sc);
        const float dd = d * fi(static_cast<int8_t>(sc & 0xFF));
        if (dd == 0.0f) continue;
        for (int i = 16 * k; i < 16 * k + 16; ++i) {
            L[i] = static_cast<uint8_t>(std::clamp(nearest_int(x[i] / dd), -32, 31) + 32);
        }
    }
    for (size_t h = 0; h < 2; ++h) {
        const uint8_t* Lh = L + 128 * h;
        for (size_t l = 0; l < 32; ++l) {
            put_u8(b, 64 * h + l, (Lh[l] & 15) | ((Lh[l + 64] & 15) << 4));
            put_u8(b, 64 * h + l + 32, (Lh[l + 32] & 15) | ((Lh[l + 96] & 15) << 4));
            put_u8(b, 128 + 32 * h + l,
                   (Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                       ((Lh[l + 96] >> 4) << 6));
        }
    }
}

}  // namespace vkllm::quant::detail
