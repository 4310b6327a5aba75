// Types with a quantiser are filled by quantising N(0,1) samples, which exercises realistic
// scale/min distributions. The IQ4 and MXFP4 types have no quantiser here, so their payload bits
// are uniformly random and only the scale fields are constrained to keep values O(1).

#include "quant/random_blocks.h"

#include <stdexcept>
#include <string>

#include "loader/fp16.h"
#include "loader/quant_blocks.h"
#include "quant/quantize.h"

namespace vkllm::quant {
namespace {

void fill_random_bytes(std::vector<std::byte>& out, std::mt19937_64& rng) {
    for (auto& byte : out) byte = static_cast<std::byte>(rng() & 0xFF);
}

void set_f16(std::byte* p, float v) {
    const uint16_t h = f32_to_f16(v);
    p[0] = static_cast<std::byte>(h & 0xFF);
    p[1] = static_cast<std::byte>(h >> 8);
}

float uniform(std::mt19937_64& rng, float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(rng);
}

// Overwrites each block's scale field(s) with sane values; payload bytes stay random.
void fix_scales(GgmlType type, std::vector<std::byte>& out, size_t block_bytes,
                std::mt19937_64& rng) {
    for (size_t off = 0; off < out.size(); off += block_bytes) {
        std::byte* b = out.data() + off;
        switch (type) {
            case GgmlType::IQ4_NL:  // |kv| <= 127, so d ~ 1/127 keeps |y| <= ~1.5
                set_f16(b, uniform(rng, -1.5f, 1.5f) / 127.0f);
                break;
            case GgmlType::IQ4_XS:  // |ls - 32| <= 32 and |kv| <= 127
                set_f16(b, uniform(rng, 0.25f, 1.5f) / (32.0f * 127.0f));
                break;
            case GgmlType::MXFP4:  // scale 2^(e-128) in [2^-5, 2^-2]; |kv| <= 12 -> |y| <= 3
                b[0] = static_cast<std::byte>(123 + rng() % 4);
                break;
            default:
                break;
        }
    }
}

}  // namespace

std::vector<std::byte> random_quantized(GgmlType type, size_t n_elems, std::mt19937_64& rng) {
    if (!can_dequantize(type)) {
        throw std::invalid_argument("random_quantized: unsupported type id " +
                                    std::to_string(static_cast<uint32_t>(type)));
    }
    const GgmlTypeTraits t = traits_of(type);
    if (n_elems % t.block_elems != 0) {
        throw std::invalid_argument(
            "random_quantized: n_elems is not a multiple of the block size");
    }
    if (can_quantize(type)) {
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> x(n_elems);
        for (auto& v : x) v = normal(rng);
        return quantize_row(type, x);
    }
    std::vector<std::byte> out(row_bytes(type, n_elems));
    fill_random_bytes(out, rng);
    fix_scales(type, out, t.block_bytes, rng);
    return out;
}

}  // namespace vkllm::quant
