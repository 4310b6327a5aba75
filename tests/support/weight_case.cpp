#include "tests/support/weight_case.h"

#include <cmath>

namespace vkllm::test {

::testing::AssertionResult dot_close(const std::vector<float>& got, size_t got_stride,
                                     const reference::DotResult& want, size_t N) {
    size_t bad = 0, worst = 0;
    double worst_ratio = 0;
    for (size_t i = 0; i < want.value.size(); ++i) {
        const double g = got[(i / N) * got_stride + i % N];
        const double bound = 1e-5 * want.abs_sum[i] + 1e-6;
        const double ratio = std::isfinite(g) ? std::fabs(g - want.value[i]) / bound : 1e30;
        if (ratio > 1) ++bad;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << bad << " of " << want.value.size() << " outputs out of tolerance; worst: column "
           << worst / N << " row " << worst % N << " got "
           << got[(worst / N) * got_stride + worst % N] << " want " << want.value[worst]
           << " (sum|wx| " << want.abs_sum[worst] << ", error " << worst_ratio << "x the bound)";
}

}  // namespace vkllm::test
