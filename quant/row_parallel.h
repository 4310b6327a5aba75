#pragma once
// How the row-independent encoders (synth's generator and the quantizer) use threads: the thread
// count they accept, and a row range split into contiguous parts, each landing at its own place in
// the output, so the bytes do not depend on the thread count.

#include <cstdint>
#include <functional>

namespace vkllm::quant {

// Thread counts above this are a typo, not a machine (and would cost memory per thread).
constexpr unsigned k_max_threads = 256;

// `requested`, or std::thread::hardware_concurrency() (at least 1) for 0. Throws
// std::invalid_argument above k_max_threads.
unsigned thread_count(unsigned requested);

// Calls fn(a, b) for at most n_threads contiguous parts [a, b) of [first, last), each on its own
// thread, joins them all and then rethrows the first worker exception. n_threads >= 1.
void for_row_parts(uint64_t first, uint64_t last, unsigned n_threads,
                   const std::function<void(uint64_t, uint64_t)>& fn);

}  // namespace vkllm::quant
