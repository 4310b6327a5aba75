#pragma once
// `vkllm bench ops`: measures the device's copy bandwidth (the roofline for memory-bound decode)
// and each mat-vec weight type at real Gemma 4 shapes, reporting GB/s and the fraction of copy
// bandwidth, then (GPUs) the prefill expert mat-vec vs grouped mat-mat by chunk size, as tables
// on stdout and JSON lines under bench-results/.

#include <string>
#include <vector>

namespace vkllm::bench {

struct OpsBenchOptions {
    std::string device;
    int repeat = 20;
    uint32_t ncols = 1;
    std::string out_dir = "bench-results";
    std::vector<std::string> types;   // empty: every weight type
    std::vector<std::string> shapes;  // "KxN"; empty: the Gemma 4 default set
    // Rows per subgroup to time each case at (1..4); empty: the device's choice only.
    std::vector<uint32_t> rows;
    // Split-K factors to time the integer path at; empty: 1 (none). Those the device's workgroup
    // cannot hold are skipped.
    std::vector<uint32_t> splits;
    std::string command_line;
};

int run_ops_bench(const OpsBenchOptions& options);

}  // namespace vkllm::bench
