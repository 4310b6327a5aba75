#pragma once
// Compares a kernel's output with an fp64 CPU reference. A value passes when
// |got - want| <= atol + rtol * |want|; a failure reports the count of bad elements, the worst
// index with its values, and the max abs / rel error over the whole tensor.

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

namespace vkllm::test {

struct Tolerance {
    double atol = 0;
    double rtol = 0;
};

::testing::AssertionResult all_close(std::span<const float> got, std::span<const double> want,
                                     Tolerance tol);
::testing::AssertionResult all_close(std::span<const float> got, std::span<const float> want,
                                     Tolerance tol);

// fp64 log-softmax of one logit column (what the llama.cpp reference log-probs are).
std::vector<double> log_softmax(const float* z, size_t n);

}  // namespace vkllm::test
