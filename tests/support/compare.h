#pragma once
// Compares a kernel's output with an fp64 CPU reference. A value passes when
// |got - want| <= atol + rtol * |want|; a failure reports the count of bad elements, the worst
// index with its values, and the max abs / rel error over the whole tensor.

#include <gtest/gtest.h>

#include <span>
#include <string>

namespace vkllm::test {

struct Tolerance {
    double atol = 0;
    double rtol = 0;
};

::testing::AssertionResult all_close(std::span<const float> got, std::span<const double> want,
                                     Tolerance tol);
::testing::AssertionResult all_close(std::span<const float> got, std::span<const float> want,
                                     Tolerance tol);

}  // namespace vkllm::test
