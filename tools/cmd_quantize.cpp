// `vkllm quantize SRC DST --type MIX`: llama-quantize for Gemma 4 (quant/model_quantizer.h),
// then a summary of what was written. The work is in the vkllm_quant library; this file only
// maps options.

#include <cstdio>
#include <stdexcept>
#include <string>

#include "quant/model_quantizer.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

constexpr const char* k_mixes = "q8_0, q4_0, q4_k_m, q5_k_m";

quant::QuantizeSpec spec_from(const Args& args) {
    quant::QuantizeSpec spec;
    const std::string type = args.get_or("--type", "");
    const auto mix = quant::parse_quant_mix(type);
    if (type.empty()) {
        throw std::invalid_argument("--type is required: one of " + std::string(k_mixes));
    }
    if (!mix || !quant::is_quantized_mix(*mix)) {
        throw std::invalid_argument("--type needs one of " + std::string(k_mixes) + ", got '" +
                                    type + "'");
    }
    spec.mix = *mix;
    if (const auto t = args.get("--threads")) {
        size_t used = 0;
        unsigned long v = 0;
        try {
            v = std::stoul(*t, &used, 10);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != t->size() || (*t)[0] == '-' || v > 256) {
            throw std::invalid_argument("--threads needs an integer 0..256, got '" + *t + "'");
        }
        spec.n_threads = static_cast<unsigned>(v);
    }
    return spec;
}

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

int cmd_quantize(const Args& args) {
    args.allow_only({"--type", "--threads"});
    const auto& pos = args.positional();
    if (pos.size() != 2) {
        throw std::invalid_argument(
            "usage: vkllm quantize SRC DST --type MIX [--threads N], MIX one of " +
            std::string(k_mixes));
    }
    const quant::QuantizeSpec spec = spec_from(args);
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
    const quant::QuantizeSummary s = quant::quantize_gemma4_file(pos[0], pos[1], spec, progress);
    print_summary(pos[1], spec, s);
    return 0;
}

}  // namespace vkllm::cli
