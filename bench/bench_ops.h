#pragma once
// `vkllm bench ops`: measures the device's copy bandwidth (the roofline for memory-bound decode)
// and each mat-vec weight type at real Gemma 4 shapes, reporting GB/s and the fraction of copy
// bandwidth, as a table on stdout and JSON lines under bench-results/.

#include <string>

namespace vkllm::bench {

struct OpsBenchOptions {
    std::string device;
    int repeat = 20;
    std::string out_dir = "bench-results";
};

int run_ops_bench(const OpsBenchOptions& options);

}  // namespace vkllm::bench
