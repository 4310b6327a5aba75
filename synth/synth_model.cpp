#include "synth/synth_model.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "quant/row_parallel.h"
#include "synth/gemma4_metadata.h"
#include "synth/synth_vocab.h"
#include "synth/tensor_stream.h"
#include "synth/trained_weights.h"

namespace vkllm::synth {
namespace {

// A trained model's shape is fixed by its weights: only the context length may change.
Gemma4Shape trained_shape(const SynthSpec& spec, const GgufFile* vocab) {
    Gemma4Shape s = read_trained_shape(spec.weights_dir);
    if (spec.n_layer || spec.n_vocab || spec.split_expert_gate_up || spec.untied_head) {
        throw std::invalid_argument(
            "[pack] a trained model's layers, vocabulary and tensor layout come from its "
            "weights; only the context length can be set");
    }
    if (spec.n_ctx) s.n_ctx = *spec.n_ctx;
    if (vocab == nullptr) {
        throw std::invalid_argument(
            "[pack] trained weights need the vocabulary they were "
            "trained with (--vocab)");
    }
    if (const uint32_t n = vocab_size_of(*vocab); n != s.n_vocab) {
        throw std::invalid_argument("[pack] " + vocab->name() + " has " + std::to_string(n) +
                                    " tokens, the weights were trained on " +
                                    std::to_string(s.n_vocab));
    }
    return s;
}

Gemma4Shape resolve_shape(const SynthSpec& spec, const GgufFile* vocab) {
    if (!spec.weights_dir.empty()) return trained_shape(spec, vocab);
    Gemma4Shape s = preset_shape(spec.preset);
    if (spec.n_layer) set_layer_count(s, *spec.n_layer);
    if (spec.n_ctx) s.n_ctx = *spec.n_ctx;
    if (vocab != nullptr) {
        const uint32_t n = vocab_size_of(*vocab);
        if (spec.n_vocab && *spec.n_vocab != n) {
            throw std::invalid_argument("[synth] vocabulary size " + std::to_string(*spec.n_vocab) +
                                        " conflicts with the " + std::to_string(n) + " tokens of " +
                                        vocab->name() +
                                        " (the size follows --vocab; drop one of them)");
        }
        s.n_vocab = n;
    } else {
        if (spec.n_vocab) s.n_vocab = *spec.n_vocab;
        if (s.n_vocab < k_min_generated_vocab) {
            throw std::invalid_argument("[synth] vocabulary size " + std::to_string(s.n_vocab) +
                                        " is below the " + std::to_string(k_min_generated_vocab) +
                                        " tokens a generated vocabulary needs");
        }
    }
    validate_shape(s);
    return s;
}

std::optional<GgufFile> open_vocab(const SynthSpec& spec) {
    if (spec.vocab_file.empty()) return std::nullopt;
    return GgufFile::open(spec.vocab_file);
}

SynthPlan make_plan(const SynthSpec& spec, const GgufFile* vocab) {
    SynthPlan p;
    p.shape = resolve_shape(spec, vocab);
    if (spec.split_expert_gate_up && !p.shape.is_moe()) {
        throw std::invalid_argument("[synth] split expert gate/up tensors need an MoE preset " +
                                    std::string("(tiny-moe, 26b-a4b); '") + spec.preset +
                                    "' has no experts");
    }
    const TensorLayout layout{spec.split_expert_gate_up, spec.untied_head};
    p.tensors = plan_tensors(p.shape, layout, spec.quant == quant::QuantMix::F32);
    assign_types(spec.quant, p.shape, p.tensors);
    if (!spec.weights_dir.empty()) check_trained_tensors(spec.weights_dir, p.tensors);
    return p;
}

void check_output_path(const SynthSpec& spec, const std::filesystem::path& path) {
    std::error_code ec;
    if (!spec.vocab_file.empty() && std::filesystem::equivalent(path, spec.vocab_file, ec)) {
        throw std::invalid_argument("[synth] the output " + path.string() +
                                    " is the --vocab file; writing would destroy it");
    }
}

// Builds the writer (metadata now, tensor producers for later) and streams it to `out`.
void write_model(const SynthSpec& spec, const SynthPlan& plan, const GgufFile* vocab,
                 std::ofstream& out, const SynthProgress& progress) {
    GgufWriter w;
    std::string description = spec.description;
    if (description.empty()) {
        description = spec.weights_dir.empty()
                          ? synthetic_description(plan.shape, spec.quant, spec.seed)
                          : trained_description(plan.shape);
    }
    add_general_metadata(w, plan.shape, description);
    add_gemma4_metadata(w, plan.shape);
    if (vocab != nullptr) {
        copy_vocab(w, *vocab);
    } else {
        add_generated_vocab(w, plan.shape.n_vocab);
    }
    add_quantization_metadata(w, spec.quant);
    const unsigned n_threads = quant::thread_count(spec.n_threads);
    const size_t count = plan.tensors.size();
    for (size_t i = 0; i < count; ++i) {
        const PlannedTensor& t = plan.tensors[i];
        w.add_tensor(t.name, t.type, t.ne, [&, i](TensorSink& sink) {
            if (progress) progress(t, i, count);
            if (spec.weights_dir.empty()) {
                stream_tensor(t, random_rows(t, spec.seed), n_threads, sink, out);
            } else {
                const TrainedTensor values(spec.weights_dir, t);
                stream_tensor(
                    t, [&values](uint64_t r, std::span<float> v) { values.fill(r, v); }, n_threads,
                    sink, out);
            }
        });
    }
    w.write(out);
}

}  // namespace

SynthPlan plan_synthetic_gemma4(const SynthSpec& spec) {
    const std::optional<GgufFile> vocab = open_vocab(spec);
    return make_plan(spec, vocab ? &*vocab : nullptr);
}

SynthSummary write_synthetic_gemma4(const SynthSpec& spec, const std::filesystem::path& path,
                                    const SynthProgress& progress) {
    const auto start = std::chrono::steady_clock::now();
    check_output_path(spec, path);
    const std::optional<GgufFile> vocab = open_vocab(spec);
    const SynthPlan plan = make_plan(spec, vocab ? &*vocab : nullptr);
    (void)quant::thread_count(spec.n_threads);  // reject a bad count before the output is created

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    }
    try {
        write_model(spec, plan, vocab ? &*vocab : nullptr, out, progress);
        out.close();
        if (!out) throw std::runtime_error("writing " + path.string() + " failed (disk full?)");
    } catch (...) {
        out.close();
        std::error_code ec;
        std::filesystem::remove(path, ec);  // never leave a truncated model behind
        throw;
    }

    SynthSummary s;
    s.n_tensors = plan.tensors.size();
    for (const PlannedTensor& t : plan.tensors) {
        const uint64_t bytes = row_bytes(t.type, t.ne[0]) * t.n_rows();
        s.n_params += t.n_elements();
        s.tensor_bytes += bytes;
        s.by_type[t.type].tensors++;
        s.by_type[t.type].bytes += bytes;
    }
    s.file_bytes = std::filesystem::file_size(path);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

}  // namespace vkllm::synth
