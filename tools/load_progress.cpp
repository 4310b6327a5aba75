#include "tools/load_progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "runtime/model/memory_plan.h"

namespace vkllm::cli {
namespace {

// State shared by the callbacks of one load.
struct Bar {
    bool tty = isatty(fileno(stderr)) != 0;
    int last_pct = -1;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

}  // namespace

void report_load_on_stderr(ModelOptions& options) {
    auto bar = std::make_shared<Bar>();
    options.on_plan = [](const MemoryPlan& plan) {
        std::fprintf(stderr, "memory plan: %s\n%s", describe(plan).c_str(),
                     describe_kv(plan, "  ").c_str());
        if (const std::string w = past_training_warning(plan); !w.empty()) {
            std::fprintf(stderr, "%s\n", w.c_str());
        }
    };
    options.on_upload = [bar](uint64_t done, uint64_t total) {
        if (bar->tty) {
            const int pct = total ? static_cast<int>(100 * done / total) : 100;
            if (pct != bar->last_pct) {
                bar->last_pct = pct;
                const int width = 40;
                const int filled = total ? static_cast<int>(width * done / total) : width;
                std::fprintf(stderr, "\rloading weights [%-*s] %3d%% %llu/%llu MiB", width,
                             std::string(static_cast<size_t>(filled), '#').c_str(), pct,
                             static_cast<unsigned long long>(done >> 20),
                             static_cast<unsigned long long>(total >> 20));
                std::fflush(stderr);
            }
        }
        if (done == total) {
            const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - bar->start)
                    .count();
            if (bar->tty) std::fprintf(stderr, "\n");
            std::fprintf(stderr, "loaded %llu MiB of weights in %.1f s\n",
                         static_cast<unsigned long long>(total >> 20), s);
        }
    };
}

}  // namespace vkllm::cli
