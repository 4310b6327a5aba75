#include "quant/row_parallel.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vkllm::quant {

unsigned thread_count(unsigned requested) {
    if (requested > k_max_threads) {
        throw std::invalid_argument("thread count " + std::to_string(requested) +
                                    " is above the limit of " + std::to_string(k_max_threads));
    }
    if (requested != 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

void for_row_parts(uint64_t first, uint64_t last, unsigned n_threads,
                   const std::function<void(uint64_t, uint64_t)>& fn) {
    const uint64_t n = last - first;
    const uint64_t per = (n + n_threads - 1) / n_threads;
    std::vector<std::exception_ptr> errors(n_threads);
    std::vector<std::thread> workers;
    for (unsigned k = 0; k < n_threads; ++k) {
        const uint64_t a = first + std::min(n, k * per), b = first + std::min(n, (k + 1) * per);
        if (a == b) break;
        workers.emplace_back([&, k, a, b] {
            try {
                fn(a, b);
            } catch (...) {
                errors[k] = std::current_exception();
            }
        });
    }
    for (std::thread& w : workers) w.join();
    for (const std::exception_ptr& e : errors) {
        if (e) std::rethrow_exception(e);
    }
}

}  // namespace vkllm::quant
