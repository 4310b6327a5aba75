// `vkllm synth`: write a Gemma 4 GGUF with random weights (synth/synth_model.h), then print what
// was written and how fast. The work is in the vkllm_synth library; this file only maps options.

#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "synth/synth_model.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

uint64_t parse_u64(const std::string& option, const std::string& text, uint64_t max) {
    size_t used = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(text, &used, 10);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || text[0] == '-' || v > max) {
        throw std::invalid_argument(option + " needs an integer 0.." + std::to_string(max) +
                                    ", got '" + text + "'");
    }
    return v;
}

std::optional<uint32_t> opt_u32(const Args& args, const std::string& option) {
    const auto text = args.get(option);
    if (!text) return std::nullopt;
    return static_cast<uint32_t>(parse_u64(option, *text, std::numeric_limits<uint32_t>::max()));
}

synth::SynthSpec spec_from(const Args& args) {
    synth::SynthSpec spec;
    spec.preset = args.get_or("--preset", "");
    if (spec.preset.empty()) throw std::invalid_argument("--preset NAME is required");
    const std::string mix = args.get_or("--quant", "");
    const auto q = quant::parse_quant_mix(mix);
    if (!q) {
        throw std::invalid_argument("--quant needs one of " +
                                    std::string(quant::quant_mix_names()) + ", got '" + mix + "'");
    }
    spec.quant = *q;
    if (const auto s = args.get("--seed")) {
        spec.seed = parse_u64("--seed", *s, std::numeric_limits<uint64_t>::max());
    }
    spec.n_layer = opt_u32(args, "--layers");
    spec.n_ctx = opt_u32(args, "--ctx");
    spec.n_vocab = opt_u32(args, "--vocab-size");
    spec.vocab_file = args.get_or("--vocab", "");
    if (const auto t = opt_u32(args, "--threads")) spec.n_threads = *t;
    spec.split_expert_gate_up = args.has("--split-experts");
    spec.untied_head = args.has("--untied-head");
    return spec;
}

double mib(uint64_t b) {
    return static_cast<double>(b) / (1 << 20);
}

void print_summary(const synth::SynthSpec& spec, const std::string& path,
                   const synth::SynthSummary& s) {
    std::printf("%s: preset %s, %s, seed %llu%s%s\n", path.c_str(), spec.preset.c_str(),
                std::string(quant::quant_mix_name(spec.quant)).c_str(),
                static_cast<unsigned long long>(spec.seed),
                spec.split_expert_gate_up ? ", split expert gate/up" : "",
                spec.untied_head ? ", untied output head" : "");
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

int cmd_synth(const Args& args) {
    args.allow_only({"--preset", "--quant", "-o", "--seed", "--layers", "--ctx", "--vocab",
                     "--vocab-size", "--threads", "--split-experts", "--untied-head"});
    const std::string out = args.get_or("-o", "");
    if (out.empty()) throw std::invalid_argument("-o FILE is required");
    if (!args.positional().empty()) {
        throw std::invalid_argument("unexpected argument '" + args.positional()[0] + "'");
    }
    const synth::SynthSpec spec = spec_from(args);
    // Progress on stderr for the large presets, where a run takes minutes.
    const auto progress = [](const synth::PlannedTensor& t, size_t i, size_t n) {
        if (t.n_elements() >= (uint64_t{1} << 26)) {
            std::fprintf(stderr, "[%zu/%zu] %s (%.0f M values)\n", i + 1, n, t.name.c_str(),
                         static_cast<double>(t.n_elements()) / 1e6);
        }
    };
    const synth::SynthSummary s = synth::write_synthetic_gemma4(spec, out, progress);
    print_summary(spec, out, s);
    return 0;
}

}  // namespace vkllm::cli
