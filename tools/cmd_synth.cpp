// `vkllm synth` and `vkllm pack`: write a Gemma 4 GGUF with random or trained weights
// (synth/synth_model.h), then print what was written and how fast. The work is in the vkllm_synth
// library; this file only reports.

#include <cstdio>
#include <string>

#include "synth/synth_model.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

double mib(uint64_t b) {
    return static_cast<double>(b) / (1 << 20);
}

void print_summary(const synth::SynthSpec& spec, const std::string& path,
                   const synth::SynthSummary& s) {
    if (spec.weights_dir.empty()) {
        std::printf("%s: preset %s, %s, seed %llu%s%s\n", path.c_str(), spec.preset.c_str(),
                    std::string(quant::quant_mix_name(spec.quant)).c_str(),
                    static_cast<unsigned long long>(spec.seed),
                    spec.split_expert_gate_up ? ", split expert gate/up" : "",
                    spec.untied_head ? ", untied output head" : "");
    } else {
        std::printf("%s: trained weights %s, %s\n", path.c_str(), spec.weights_dir.c_str(),
                    std::string(quant::quant_mix_name(spec.quant)).c_str());
    }
    std::printf("  %zu tensors, %.3f G parameters, %.2f MiB of tensor data, file %.2f MiB\n",
                s.n_tensors, static_cast<double>(s.n_params) / 1e9, mib(s.tensor_bytes),
                mib(s.file_bytes));
    for (const auto& [type, tot] : s.by_type) {
        std::printf("  %-6s %5zu tensors %12.2f MiB\n", std::string(traits_of(type).name).c_str(),
                    tot.tensors, mib(tot.bytes));
    }
    const double secs = s.seconds > 0 ? s.seconds : 1e-9;
    std::printf("  %.2f s, %.1f MB/s written, %.1f M parameters/s\n", s.seconds,
                static_cast<double>(s.file_bytes) / 1e6 / secs,
                static_cast<double>(s.n_params) / 1e6 / secs);
}

}  // namespace

int cmd_synth(const SynthArgs& args) {
    // Progress on stderr for the large presets, where a run takes minutes.
    const auto progress = [](const synth::PlannedTensor& t, size_t i, size_t n) {
        if (t.n_elements() >= (uint64_t{1} << 26)) {
            std::fprintf(stderr, "[%zu/%zu] %s (%.0f M values)\n", i + 1, n, t.name.c_str(),
                         static_cast<double>(t.n_elements()) / 1e6);
        }
    };
    const synth::SynthSummary s = synth::write_synthetic_gemma4(args.spec, args.out, progress);
    print_summary(args.spec, args.out, s);
    return 0;
}

}  // namespace vkllm::cli
