#pragma once
// The vkllm commands: what each takes, parsed and range-checked by the command line
// (subcommands.cpp declares every option), and its entry point, which returns the exit code.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_ops.h"
#include "bench/model_bench.h"
#include "quant/model_quantizer.h"
#include "runtime/model/gemma4_model.h"
#include "server/server_app.h"
#include "synth/synth_model.h"
#include "tools/cli_generation.h"
#include "tools/model_args.h"

namespace vkllm::cli {

struct DevicesArgs {
    bool validation = false;
    std::string profile;  // "": VKLLM_DEVICE_PROFILE, if set
};

struct InfoArgs {
    std::string path;
    bool tensors = false;  // the whole tensor table, not only the quant mix
    ModelOptions plan;     // n_ctx, n_seq, kv_k, kv_v of the memory plan shown
};

struct SynthArgs {
    synth::SynthSpec spec;
    std::string out;
};

struct VocabSubsetArgs {
    std::string from;                 // GGUF with the full tokenizer
    std::vector<std::string> corpus;  // text files
    uint32_t n_tokens = 8192;
    std::string out;
};

struct QuantizeArgs {
    std::string src;
    std::string dst;
    quant::QuantizeSpec spec;
};

struct TokenizeArgs {
    std::string model;
    bool no_bos = false;
    bool no_special = false;  // control-token texts stay text
    bool json = false;
};

struct DetokenizeArgs {
    std::string model;
    bool skip_special = false;
};

struct TemplateArgs {
    std::string model;
};

struct RunArgs {
    ModelArgs model;
    GenerationArgs generation;
    std::optional<std::string> prompt;  // absent: stdin
    bool chat = false;                  // the prompt as one user turn of the chat template
    bool think = false;
};

struct ChatArgs {
    ModelArgs model;
    GenerationArgs generation;
    std::string system;
    bool think = false;
};

struct ScoreArgs {
    ModelArgs model;  // n_ctx 0: as many as the tokens
    std::string tokens;
    uint32_t top = 10;
    bool json = false;
    bool perplexity = false;  // the tokens' own log-probs instead of the top-K lists
};

struct ServeArgs {
    ModelArgs model;  // n_seq: the slots (--parallel)
    server::ServeOptions serve;
    std::string alias;  // "": the model file name without its extension
};

int cmd_devices(const DevicesArgs& args);
int cmd_info(const InfoArgs& args);
int cmd_bench_ops(const bench::OpsBenchOptions& options);
int cmd_bench_model(const bench::ModelBenchOptions& options);
int cmd_synth(const SynthArgs& args);  // also `vkllm pack` (spec.weights_dir set)
int cmd_vocab_subset(const VocabSubsetArgs& args);

int cmd_quantize(const QuantizeArgs& args);
int cmd_tokenize(const TokenizeArgs& args);
int cmd_detokenize(const DetokenizeArgs& args);
int cmd_template(const TemplateArgs& args);
int cmd_run(const RunArgs& args);
int cmd_chat(const ChatArgs& args);
int cmd_score(const ScoreArgs& args);
int cmd_serve(const ServeArgs& args);

}  // namespace vkllm::cli
