#pragma once
// Median / min / max of repeated measurements.

#include <algorithm>
#include <vector>

namespace vkllm::bench {

struct Stats {
    double median = 0, min = 0, max = 0;
};

inline Stats summarize(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace vkllm::bench
