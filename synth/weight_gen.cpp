#include "synth/weight_gen.h"

#include <array>
#include <cmath>

namespace vkllm::synth {
namespace {

constexpr size_t k_table_bits = 16;
constexpr size_t k_table_size = size_t{1} << k_table_bits;

// SplitMix64's output function: a bijective 64-bit mixer.
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

class SplitMix64 {
  public:
    explicit SplitMix64(uint64_t state) : state_(state) {}
    uint64_t next() { return mix64(state_ += 0x9E3779B97F4A7C15ull); }

  private:
    uint64_t state_;
};

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001B3ull;
    }
    return h;
}

// Φ^-1(p) for p in (0.5, 1) by Newton's method from z = 0: Φ is concave there, so the iterates
// rise monotonically to the root without overshooting.
double normal_quantile_upper(double p) {
    double z = 0.0;
    for (int it = 0; it < 100; ++it) {
        const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
        const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * 3.14159265358979323846);
        const double step = (p - cdf) / pdf;
        z += step;
        if (std::fabs(step) < 1e-12) break;
    }
    return z;
}

using NormalTable = std::array<float, k_table_size>;

// Quantiles at the bin centres (i + 0.5) / 2^16, built once and immutable afterwards. The table is
// antisymmetric by construction, so its mean is exactly 0.
const NormalTable& normal_table() {
    static const NormalTable table = [] {
        NormalTable t{};
        for (size_t i = k_table_size / 2; i < k_table_size; ++i) {
            const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(k_table_size);
            const auto z = static_cast<float>(normal_quantile_upper(p));
            t[i] = z;
            t[k_table_size - 1 - i] = -z;
        }
        return t;
    }();
    return table;
}

}  // namespace

RowGenerator::RowGenerator(uint64_t seed, std::string_view tensor_name, WeightInit init)
    : tensor_seed_(mix64(seed ^ mix64(fnv1a(tensor_name)))), init_(init) {
    if (init_.kind == InitKind::Normal) (void)normal_table();  // build before threads race for it
}

void RowGenerator::fill(uint64_t row, std::span<float> out) const {
    // Hashing the row index (rather than offsetting one stream) keeps rows' streams unrelated.
    SplitMix64 rng(mix64(tensor_seed_ ^ mix64(row + 1)));
    const size_t n = out.size();
    switch (init_.kind) {
        case InitKind::Normal: {
            const NormalTable& t = normal_table();
            for (size_t i = 0; i < n; i += 4) {
                uint64_t bits = rng.next();
                for (size_t j = i; j < i + 4 && j < n; ++j, bits >>= k_table_bits) {
                    out[j] = init_.a + init_.b * t[bits & (k_table_size - 1)];
                }
            }
            break;
        }
        case InitKind::Uniform:
            for (float& v : out) {
                const float u = static_cast<float>(rng.next() >> 40) * 0x1.0p-24f;  // [0, 1)
                v = init_.a + (init_.b - init_.a) * u;
            }
            break;
        case InitKind::RopeFreqs:
            for (size_t i = 0; i < n; ++i) {
                out[i] = static_cast<float>(i) < init_.a ? 1.0f : 1e30f;
            }
            break;
    }
}

}  // namespace vkllm::synth
