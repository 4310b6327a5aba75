#pragma once
// Seeded random test data. Each test draws a fresh seed (or $VKLLM_TEST_SEED to replay one) and
// puts it in a SCOPED_TRACE so any failure prints it.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vkllm::test {

// A new seed per call, or the value of $VKLLM_TEST_SEED when set.
uint64_t test_seed();

std::vector<float> random_normal(std::mt19937_64& rng, size_t n, float stddev = 1.0f);
std::vector<float> random_uniform(std::mt19937_64& rng, size_t n, float lo, float hi);

}  // namespace vkllm::test

// Declares `rng` seeded by test_seed() and traces the seed for failure messages.
#define VKLLM_SEEDED_RNG(rng)                                                          \
    const uint64_t rng##_seed = ::vkllm::test::test_seed();                            \
    SCOPED_TRACE("seed " + std::to_string(rng##_seed) + " (replay: VKLLM_TEST_SEED)"); \
    std::mt19937_64 rng(rng##_seed)
