// `vkllm quantize SRC DST --type MIX`: llama-quantize for Gemma 4 (quant/model_quantizer.h),
// then a summary of what was written. The work is in the vkllm_quant library; this file only
// reports.

#include <cstdio>
#include <string>

#include "quant/model_quantizer.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

double mib(uint64_t b) {
    return static_cast<double>(b) / (1 << 20);
}

void print_summary(const std::string& dst, const quant::QuantizeSpec& spec,
                   const quant::QuantizeSummary& s) {
    std::printf("%s: %s, %zu tensors (%zu converted), %.2f MiB -> %.2f MiB in %.2f s\n",
                dst.c_str(), std::string(quant::quant_mix_name(spec.mix)).c_str(), s.n_tensors,
                s.n_converted, mib(s.source_bytes), mib(s.file_bytes), s.seconds);
    for (const auto& [type, tot] : s.by_type) {
        std::printf("  %-6s %5zu tensors %12.2f MiB\n", std::string(traits_of(type).name).c_str(),
                    tot.tensors, mib(tot.bytes));
    }
}

}  // namespace

int cmd_quantize(const QuantizeArgs& args) {
    // Progress on stderr for large tensors, where a real model takes minutes.
    const auto progress = [](std::string_view name, GgmlType from, GgmlType to, size_t i,
                             size_t n) {
        if ((i + 1) % 100 == 0) {
            std::fprintf(stderr, "[%zu/%zu] %.*s %s -> %s\n", i + 1, n,
                         static_cast<int>(name.size()), name.data(),
                         std::string(traits_of(from).name).c_str(),
                         std::string(traits_of(to).name).c_str());
        }
    };
    const quant::QuantizeSummary s =
        quant::quantize_gemma4_file(args.src, args.dst, args.spec, progress);
    print_summary(args.dst, args.spec, s);
    return 0;
}

}  // namespace vkllm::cli
