#include "tests/support/random.h"

#include <cstdlib>
#include <string>

namespace vkllm::test {

uint64_t test_seed() {
    if (const char* s = std::getenv("VKLLM_TEST_SEED")) return std::stoull(s);
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
}

std::vector<float> random_normal(std::mt19937_64& rng, size_t n, float stddev) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

std::vector<float> random_uniform(std::mt19937_64& rng, size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

}  // namespace vkllm::test
