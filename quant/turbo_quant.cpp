// TurboQuant reference quantiser and dequantiser (turbo_quant.h, formats.md §3).
#include "quant/turbo_quant.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "loader/fp16.h"

namespace vkllm::quant {
namespace {

// Sign vectors as bit masks: bit (i mod 8) of byte i / 8 set means +1 (formats.md §3.3).
constexpr std::array<uint8_t, 16> k_s1 = {0xa6, 0xfc, 0x95, 0x1b, 0xb6, 0xa6, 0x07, 0xbd,
                                          0x44, 0xc4, 0x39, 0x5b, 0x56, 0xaf, 0x0d, 0xb6};
constexpr std::array<uint8_t, 16> k_s2 = {0x6f, 0x11, 0x53, 0xe9, 0x23, 0x70, 0x9d, 0xc0,
                                          0x85, 0xca, 0x5a, 0x48, 0x9d, 0x9a, 0x5a, 0x41};
constexpr float k_inv_sqrt128 = 0.08838834764831845f;

constexpr std::array<float, 4> k_c2 = {-0.133462f, -0.039994f, 0.039994f, 0.133462f};
constexpr std::array<float, 8> k_c3 = {-0.190685f, -0.117832f, -0.065717f, -0.021460f,
                                       0.021460f,  0.065717f,  0.117832f,  0.190685f};
constexpr std::array<float, 16> k_c4 = {
    -0.173926f, -0.117195f, -0.089527f, -0.068756f, -0.051262f, -0.035597f, -0.020989f, -0.006938f,
    0.006938f,  0.020989f,  0.035597f,  0.051262f,  0.068756f,  0.089527f,  0.117195f,  0.173926f};
constexpr std::array<float, 3> k_t2 = {-0.086728f, 0.0f, 0.086728f};
constexpr std::array<float, 7> k_t3 = {-0.154259f, -0.091775f, -0.043589f, 0.0f,
                                       0.043589f,  0.091775f,  0.154259f};
constexpr std::array<float, 15> k_t4 = {-0.145560f, -0.103361f, -0.079142f, -0.060009f, -0.043430f,
                                        -0.028293f, -0.013963f, 0.0f,       0.013963f,  0.028293f,
                                        0.043430f,  0.060009f,  0.079142f,  0.103361f,  0.145560f};

float mask_sign(const std::array<uint8_t, 16>& m, size_t i) {
    return ((m[i / 8] >> (i % 8)) & 1u) != 0 ? 1.0f : -1.0f;
}

// A type's codebook: centroids (index -> value) and the decision thresholds between them.
struct Codebook {
    std::span<const float> centroids, thresholds;
};

Codebook codebook(GgmlType type) {
    switch (type) {
        case GgmlType::TURBO2_0:
            return {k_c2, k_t2};
        case GgmlType::TURBO3_0:
            return {k_c3, k_t3};
        case GgmlType::TURBO4_0:
            return {k_c4, k_t4};
        default:
            throw std::invalid_argument("turbo: not a TurboQuant type: " +
                                        std::string(traits_of(type).name));
    }
}

// The 7 butterfly stages of the unnormalised Sylvester Hadamard transform.
void hadamard(std::span<float, k_turbo_group> a) {
    for (size_t h = 1; h < k_turbo_group; h *= 2) {
        for (size_t j = 0; j < k_turbo_group; ++j) {
            if (j % (2 * h) >= h) continue;
            const float x = a[j], y = a[j + h];
            a[j] = x + y;
            a[j + h] = x - y;
        }
    }
}

void put_u16(std::byte* p, uint16_t v) {
    p[0] = static_cast<std::byte>(v & 0xFFu);
    p[1] = static_cast<std::byte>(v >> 8);
}

uint32_t byte_at(const std::byte* p, size_t i) {
    return std::to_integer<uint32_t>(p[i]);
}

void check_row(const char* op, GgmlType type, size_t elems, size_t bytes) {
    const GgmlTypeTraits t = traits_of(type);
    if (elems % k_turbo_group != 0 || bytes != elems / k_turbo_group * t.block_bytes) {
        throw std::invalid_argument(std::string(op) + ": expected a multiple of 128 elements and " +
                                    std::to_string(elems / k_turbo_group * t.block_bytes) +
                                    " bytes, got " + std::to_string(elems) + " elements and " +
                                    std::to_string(bytes) + " bytes");
    }
}

// One 128-group, formats.md §3.5.
void quantize_group(GgmlType type, const float* x, std::byte* b) {
    float n2 = 0.0f;
    for (size_t c = 0; c < k_turbo_group; ++c) n2 += x[c] * x[c];
    const float n = std::sqrt(n2);
    const float inv = n > 1e-10f ? 1.0f / n : 0.0f;
    std::array<float, k_turbo_group> y{};
    for (size_t c = 0; c < k_turbo_group; ++c) y[c] = n > 1e-10f ? x[c] * inv : 0.0f;
    turbo_rotate(y);
    const std::span<const float> cent = turbo_centroids(type);
    std::array<uint32_t, k_turbo_group> idx{};
    float r2 = 0.0f;
    for (size_t c = 0; c < k_turbo_group; ++c) {
        idx[c] = turbo_index(type, y[c]);
        r2 += cent[idx[c]] * cent[idx[c]];
    }
    const float r = std::sqrt(r2);
    put_u16(b, f32_to_f16(r > 1e-10f ? n / r : n));
    switch (type) {
        case GgmlType::TURBO2_0:
            for (size_t i = 0; i < 32; ++i) {
                uint32_t q = 0;
                for (size_t e = 0; e < 4; ++e) q |= idx[4 * i + e] << (2 * e);
                b[2 + i] = static_cast<std::byte>(q);
            }
            break;
        case GgmlType::TURBO3_0:
            for (size_t i = 0; i < 32; ++i) {
                uint32_t q = 0;
                for (size_t e = 0; e < 4; ++e) q |= (idx[4 * i + e] & 3u) << (2 * e);
                b[2 + i] = static_cast<std::byte>(q);
            }
            for (size_t i = 0; i < 16; ++i) {
                uint32_t s = 0;
                for (size_t e = 0; e < 8; ++e) s |= (idx[8 * i + e] >> 2) << e;
                b[34 + i] = static_cast<std::byte>(s);
            }
            break;
        default:  // TURBO4_0: rnorm = 0, then nibbles, even elements low
            put_u16(b + 2, 0);
            for (size_t i = 0; i < 64; ++i) {
                b[4 + i] = static_cast<std::byte>(idx[2 * i] | (idx[2 * i + 1] << 4));
            }
            break;
    }
}

uint32_t index_of(GgmlType type, const std::byte* b, size_t e) {
    switch (type) {
        case GgmlType::TURBO2_0:
            return (byte_at(b, 2 + e / 4) >> (2 * (e % 4))) & 3u;
        case GgmlType::TURBO3_0:
            return ((byte_at(b, 2 + e / 4) >> (2 * (e % 4))) & 3u) |
                   (((byte_at(b, 34 + e / 8) >> (e % 8)) & 1u) << 2);
        default:
            return (byte_at(b, 4 + e / 2) >> (4 * (e % 2))) & 15u;
    }
}

}  // namespace

bool is_turbo(GgmlType type) {
    return type == GgmlType::TURBO2_0 || type == GgmlType::TURBO3_0 || type == GgmlType::TURBO4_0;
}

std::span<const float> turbo_centroids(GgmlType type) {
    return codebook(type).centroids;
}

float turbo_sign1(size_t i) {
    return mask_sign(k_s1, i);
}
float turbo_sign2(size_t i) {
    return mask_sign(k_s2, i);
}

void turbo_rotate(std::span<float, k_turbo_group> v) {
    for (size_t i = 0; i < k_turbo_group; ++i) v[i] *= turbo_sign1(i);
    hadamard(v);
    for (size_t i = 0; i < k_turbo_group; ++i) v[i] *= turbo_sign2(i) * k_inv_sqrt128;
}

void turbo_unrotate(std::span<float, k_turbo_group> v) {
    for (size_t i = 0; i < k_turbo_group; ++i) v[i] *= turbo_sign2(i);
    hadamard(v);
    for (size_t i = 0; i < k_turbo_group; ++i) v[i] *= turbo_sign1(i) * k_inv_sqrt128;
}

uint32_t turbo_index(GgmlType type, float y) {
    uint32_t i = 0;
    for (const float t : codebook(type).thresholds) i += y >= t ? 1u : 0u;
    return i;
}

std::vector<std::byte> quantize_turbo_row(GgmlType type, std::span<const float> src) {
    const size_t block = traits_of(type).block_bytes;
    (void)codebook(type);  // rejects other types
    std::vector<std::byte> out(src.size() / k_turbo_group * block);
    check_row("quantize_turbo_row", type, src.size(), out.size());
    for (size_t g = 0; g < src.size() / k_turbo_group; ++g) {
        quantize_group(type, src.data() + g * k_turbo_group, out.data() + g * block);
    }
    return out;
}

void dequantize_turbo_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst) {
    const std::span<const float> cent = turbo_centroids(type);
    check_row("dequantize_turbo_row", type, dst.size(), src.size());
    const size_t block = traits_of(type).block_bytes;
    for (size_t g = 0; g < dst.size() / k_turbo_group; ++g) {
        const std::byte* b = src.data() + g * block;
        const float norm = f16_to_f32(static_cast<uint16_t>(byte_at(b, 0) | (byte_at(b, 1) << 8)));
        for (size_t e = 0; e < k_turbo_group; ++e) {
            dst[g * k_turbo_group + e] = cent[index_of(type, b, e)] * norm;
        }
    }
}

size_t turbo_padded_dim(size_t head_dim) {
    return (head_dim + k_turbo_group - 1) / k_turbo_group * k_turbo_group;
}

std::vector<std::byte> quantize_turbo_heads(GgmlType type, std::span<const float> src,
                                            size_t head_dim) {
    if (head_dim == 0 || src.size() % head_dim != 0) {
        throw std::invalid_argument("quantize_turbo_heads: " + std::to_string(src.size()) +
                                    " values are not whole heads of " + std::to_string(head_dim));
    }
    const size_t padded = turbo_padded_dim(head_dim);
    std::vector<float> rows(src.size() / head_dim * padded, 0.0f);
    for (size_t h = 0; h < src.size() / head_dim; ++h) {
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(h * head_dim), head_dim,
                    rows.begin() + static_cast<std::ptrdiff_t>(h * padded));
    }
    return quantize_turbo_row(type, rows);
}

void reconstruct_turbo_heads(GgmlType type, std::span<const std::byte> src, size_t head_dim,
                             std::span<float> dst) {
    if (head_dim == 0 || dst.size() % head_dim != 0) {
        throw std::invalid_argument("reconstruct_turbo_heads: bad head_dim");
    }
    const size_t padded = turbo_padded_dim(head_dim);
    std::vector<float> rows(dst.size() / head_dim * padded);
    dequantize_turbo_row(type, src, rows);
    for (size_t g = 0; g < rows.size(); g += k_turbo_group) {
        turbo_unrotate(std::span(rows).subspan(g).first<k_turbo_group>());
    }
    for (size_t h = 0; h < dst.size() / head_dim; ++h) {
        std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(h * padded), head_dim,
                    dst.begin() + static_cast<std::ptrdiff_t>(h * head_dim));
    }
}

}  // namespace vkllm::quant
