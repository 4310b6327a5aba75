#include "tests/support/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

namespace vkllm::test {

::testing::AssertionResult all_close(std::span<const float> got, std::span<const double> want,
                                     Tolerance tol) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure()
               << "size mismatch: got " << got.size() << ", want " << want.size();
    }
    size_t bad = 0, worst = 0;
    double worst_excess = -1, max_abs = 0, max_rel = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double g = got[i], w = want[i];
        const double err = std::isnan(g) != std::isnan(w) ? std::numeric_limits<double>::infinity()
                                                          : std::fabs(g - w);
        const double limit = tol.atol + tol.rtol * std::fabs(w);
        max_abs = std::max(max_abs, err);
        if (std::fabs(w) > 0) max_rel = std::max(max_rel, err / std::fabs(w));
        if (!(err <= limit) && !(std::isnan(g) && std::isnan(w))) {
            ++bad;
            if (err - limit > worst_excess) {
                worst_excess = err - limit;
                worst = i;
            }
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    std::ostringstream s;
    s << bad << " of " << got.size() << " elements out of tolerance (atol " << tol.atol << ", rtol "
      << tol.rtol << "); worst at index " << worst << ": got " << got[worst] << ", want "
      << want[worst] << "; max abs err " << max_abs << ", max rel err " << max_rel;
    return ::testing::AssertionFailure() << s.str();
}

::testing::AssertionResult all_close(std::span<const float> got, std::span<const float> want,
                                     Tolerance tol) {
    std::vector<double> w(want.begin(), want.end());
    return all_close(got, std::span<const double>(w), tol);
}

std::vector<double> log_softmax(const float* z, size_t n) {
    double m = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) m = std::max(m, double{z[i]});
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::exp(double{z[i]} - m);
    const double lse = m + std::log(s);
    std::vector<double> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = double{z[i]} - lse;
    return out;
}

}  // namespace vkllm::test
