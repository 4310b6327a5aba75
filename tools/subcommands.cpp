// Every vkllm subcommand with its options. An option is declared here once, bound to the field of
// the command's arguments (commands.h) that it sets, so the default shown in --help is the
// field's initial value; options several commands share are declared by one helper each.
// A command's arguments live in a shared_ptr held by its run function: CLI11 writes through
// the bound references while parsing, after add_commands has returned.

#include "tools/subcommands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string_view>

#include "quant/quant_mix.h"
#include "runtime/model/memory_plan.h"
#include "runtime/vk/device_profile.h"
#include "synth/gemma4_shape.h"
#include "tools/cli_checks.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

constexpr const char* k_model_options = "Model options";
constexpr const char* k_model_ctx = "the model's default (up to 8192)";  // ModelOptions::n_ctx

template <typename Args>
Command command(CLI::App* app, std::shared_ptr<Args> args, int (*run)(const Args&)) {
    return {app, [args, run] { return run(*args); }};
}

// --- Options shared by several commands -------------------------------------------------------

void add_model_path(CLI::App& cmd, std::string& path) {
    cmd.add_option("-m,--model", path, "the GGUF file")->required()->check(CLI::ExistingFile);
}

CLI::Option* add_device(CLI::App& cmd, std::string& device) {
    return cmd
        .add_option("--device", device,
                    "an index from `vkllm devices` or part of a device name; default: the best")
        ->type_name("N|NAME");
}

// --ctx: one range for every command. The runtime refuses a context past
// max(trained, 1048576) with a message naming both (memory_plan.h resolve), and the tools warn on
// stderr past the trained length; this bound only keeps absurd values out before a model is open.
CLI::Option* add_ctx(CLI::App& cmd, uint32_t& n_ctx, const std::string& zero_means) {
    return cmd
        .add_option("--ctx", n_ctx,
                    "context tokens per sequence (past the model's trained length up to 1048576, "
                    "with a warning); 0: " +
                        zero_means)
        ->check(integer_in(0, int64_t{1} << 26));
}

// --kv-k and --kv-v: the KV cache types, as the runtime parses them. "Options" is CLI11's
// default group.
void add_kv_types(CLI::App& cmd, GgmlType& k, GgmlType& v, const std::string& group = "Options") {
    const auto add = [&](const std::string& name, GgmlType& type, const std::string& help) {
        cmd.add_option_function<std::string>(
               name, [&type](const std::string& s) { type = parse_kv_type(s); }, help)
            ->check(CLI::IsMember({"f16", "q8_0", "tq3", "turbo3", "turbo2", "turbo4"},
                                  CLI::ignore_case))
            ->default_str(std::string(traits_of(type).name))
            ->group(group);
    };
    add("--kv-k", k, "K cache type");
    add("--kv-v", v, "V cache type");
}

// --fp32-matvec: ModelOptions::int_dot_matvec off.
CLI::Option* add_fp32_matvec(CLI::App& cmd, bool& int_dot_matvec) {
    return cmd.add_flag_callback(
        "--fp32-matvec", [&int_dot_matvec] { int_dot_matvec = false; },
        "decode mat-vecs on fp32 activations even where the GPU has fast integer dot products "
        "(slower; for comparing outputs)");
}

// --vram-budget SIZE|auto: ModelOptions::vram_budget.
CLI::Option* add_vram_budget(CLI::App& cmd, uint64_t& budget) {
    return cmd
        .add_option_function<std::string>(
            "--vram-budget", [&budget](const std::string& s) { budget = parse_vram_budget(s); },
            "device bytes the model may use, e.g. 8GiB, 512MiB, 24GB, or auto (the device heap "
            "less 5%); a MoE model whose experts do not fit streams them through an expert "
            "cache (docs/design/moe-streaming.md)")
        ->check(CLI::Validator(
            [](std::string& s) {
                try {
                    (void)parse_vram_budget(s);
                    return std::string();
                } catch (const std::invalid_argument& e) {
                    return std::string(e.what());
                }
            },
            "SIZE|auto"));
}

// --expert-compute auto|gpu|cpu: ModelOptions::expert_compute.
CLI::Option* add_expert_compute(CLI::App& cmd, ExpertCompute& mode) {
    return cmd
        .add_option_function<std::string>(
            "--expert-compute",
            [&mode](const std::string& s) {
                mode = s == "gpu" ? ExpertCompute::Gpu
                                  : (s == "cpu" ? ExpertCompute::Cpu : ExpertCompute::Auto);
            },
            "where streamed experts that miss the cache run: auto (the CPU for cold ones when "
            "that beats uploading them, by bandwidths measured at load), gpu (always uploaded; "
            "outputs identical to resident experts) or cpu (every miss)")
        ->check(CLI::IsMember({"auto", "gpu", "cpu"}))
        ->default_str("auto");
}

// -m, then --ctx, --kv-k, --kv-v, --fp32-matvec and --device in the "Model options" group.
void add_model_options(CLI::App& cmd, ModelArgs& model, const std::string& ctx_zero_means) {
    cmd.add_option("-m,--model", model.path,
                   "the GGUF file; default: $VKLLM_MODEL, else the trained demo model "
                   "(models/README.md)")
        ->check(CLI::ExistingFile);
    add_ctx(cmd, model.options.n_ctx, ctx_zero_means)->group(k_model_options);
    add_kv_types(cmd, model.options.kv_k, model.options.kv_v, k_model_options);
    add_fp32_matvec(cmd, model.options.int_dot_matvec)->group(k_model_options);
    add_vram_budget(cmd, model.options.vram_budget)->group(k_model_options);
    add_expert_compute(cmd, model.options.expert_compute)->group(k_model_options);
    add_device(cmd, model.device)->group(k_model_options);
}

// The names in quant_mix_names() ("f32, f16, ..."); only the quantized ones with
// `quantized_only`.
std::vector<std::string> quant_mixes(bool quantized_only) {
    std::vector<std::string> names;
    std::string_view rest = quant::quant_mix_names();
    while (!rest.empty()) {
        const size_t comma = std::min(rest.find(','), rest.size());
        std::string_view name = rest.substr(0, comma);
        rest.remove_prefix(std::min(comma + 1, rest.size()));
        while (name.starts_with(' ')) name.remove_prefix(1);
        if (!quantized_only || quant::is_quantized_mix(*quant::parse_quant_mix(name))) {
            names.emplace_back(name);
        }
    }
    return names;
}

CLI::Option* add_quant_mix(CLI::App& cmd, const std::string& name, quant::QuantMix& mix,
                           bool quantized_only, const std::string& help) {
    return cmd
        .add_option_function<std::string>(
            name, [&mix](const std::string& s) { mix = *quant::parse_quant_mix(s); }, help)
        ->check(CLI::IsMember(quant_mixes(quantized_only)))
        ->required();
}

// A duration given in seconds (at least a millisecond).
void add_seconds(CLI::App& cmd, const std::string& name, std::chrono::milliseconds& value,
                 const std::string& help) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", static_cast<double>(value.count()) / 1000.0);
    cmd.add_option_function<double>(
           name,
           [&value](double s) { value = std::chrono::milliseconds(std::llround(s * 1000.0)); },
           help + " (seconds)")
        ->check(number_at_least(0.001))
        ->default_str(shown);
}

// --- Commands ---------------------------------------------------------------------------------

Command add_devices(CLI::App& root) {
    auto a = std::make_shared<DevicesArgs>();
    CLI::App* cmd = root.add_subcommand(
        "devices", "Vulkan devices, what vkllm can use and the kernel paths each gets");
    cmd->add_flag("--validation", a->validation, "enable the Khronos validation layer");
    std::vector<std::string> profiles;
    for (const vk::DeviceProfile& p : vk::device_profiles()) profiles.emplace_back(p.name);
    cmd->add_option("--profile", a->profile,
                    "show each device as this test profile presents it; default: "
                    "VKLLM_DEVICE_PROFILE")
        ->check(CLI::IsMember(profiles));
    return command(cmd, a, cmd_devices);
}

Command add_info(CLI::App& root) {
    auto a = std::make_shared<InfoArgs>();
    CLI::App* cmd = root.add_subcommand(
        "info", "GGUF metadata, tensors, quant mix, Gemma 4 config and memory plan");
    cmd->add_option("MODEL", a->path, "the GGUF file")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--tensors", a->tensors, "list every tensor");
    const std::string group = "Memory plan";
    add_ctx(*cmd, a->plan.n_ctx, k_model_ctx)->group(group);
    cmd->add_option("--parallel", a->plan.n_seq, "sequences (server slots)")
        ->check(integer_in(1, 1024))
        ->group(group);
    add_kv_types(*cmd, a->plan.kv_k, a->plan.kv_v, group);
    add_vram_budget(*cmd, a->plan.vram_budget)->group(group);
    return command(cmd, a, cmd_info);
}

Command add_bench_ops(CLI::App& bench, const std::string& command_line) {
    auto o = std::make_shared<bench::OpsBenchOptions>();
    o->command_line = command_line;
    CLI::App* cmd = bench.add_subcommand(
        "ops", "mat-vec GB/s per weight type at Gemma 4 shapes, as a fraction of copy bandwidth");
    add_device(*cmd, o->device);
    cmd->add_option("--repeat", o->repeat, "timed runs per case")
        ->check(integer_in(1, int64_t{1} << 24));
    cmd->add_option("--ncols", o->ncols, "columns per mat-vec (sequences decoded together)")
        ->check(integer_in(1, 8));
    cmd->add_option("--types", o->types, "weight types, e.g. q4_K,q8_0")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->default_str("all");
    cmd->add_option("--shapes", o->shapes, "matrix shapes KxN, e.g. 5376x21504,...")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->default_str("the released sizes' decode shapes");
    cmd->add_option("--rows", o->rows, "rows per subgroup to time each mat-vec at, e.g. 1,2,4")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(integer_in(1, 4))
        ->default_str("the device's choice");
    cmd->add_option("--split", o->splits,
                    "integer path: subgroups sharing a row group (split-K) to time each mat-vec "
                    "at, e.g. 1,2,4 (powers of two up to the workgroup's subgroups)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(integer_in(1, 64))
        ->default_str("1");
    cmd->add_option("--out", o->out_dir, "directory of the JSON-lines record");
    return command(cmd, o, cmd_bench_ops);
}

Command add_bench_model(CLI::App& bench, const std::string& command_line) {
    auto o = std::make_shared<bench::ModelBenchOptions>();
    o->command_line = command_line;
    CLI::App* cmd = bench.add_subcommand(
        "model", "prefill and decode tok/s at several batch sizes, decode GB/s vs copy bandwidth");
    add_model_path(*cmd, o->model);
    add_device(*cmd, o->device);
    cmd->add_option("--prompt", o->prompt_tokens, "prompt tokens")
        ->check(integer_in(1, int64_t{1} << 24));
    cmd->add_option("--gen", o->gen_tokens, "generated tokens")
        ->check(integer_in(2, int64_t{1} << 24));
    cmd->add_option("--depth", o->depth,
                    "decode after a context of this many tokens in every sequence (filled by a "
                    "prefill of random ids, timed too); 0: after the prompt")
        ->check(integer_in(0, int64_t{1} << 26));
    cmd->add_option("--batches", o->batches, "sequences decoded together, one run each")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->check(integer_in(1, 64));
    add_ctx(*cmd, o->n_ctx, "enough for the context (--prompt or --depth) + gen");
    cmd->add_option("--chunk", o->prefill_chunk, "prefill chunk tokens")
        ->check(integer_in(1, int64_t{1} << 24));
    add_kv_types(*cmd, o->kv_k, o->kv_v);
    add_fp32_matvec(*cmd, o->int_dot_matvec);
    add_vram_budget(*cmd, o->vram_budget);
    add_expert_compute(*cmd, o->expert_compute);
    cmd->add_flag_callback(
        "--no-prefetch", [o] { o->expert_prefetch = false; },
        "streamed experts: no uploads ahead from the next layer's forecast routing");
    cmd->add_option("--expert-slots", o->expert_slots,
                    "cache this many experts per MoE layer and stream the rest, whatever the "
                    "budget (0: as --vram-budget plans)")
        ->check(integer_in(0, 1 << 16));
    cmd->add_flag("--profile", o->profile,
                  "time every dispatch of a decode step and print the GPU time by kernel");
    cmd->add_option("--repeat", o->repeat, "copy-bandwidth runs")
        ->check(integer_in(1, int64_t{1} << 24));
    cmd->add_option("--out", o->out_dir, "directory of the JSON-lines record");
    return command(cmd, o, cmd_bench_model);
}

Command add_synth(CLI::App& root) {
    auto a = std::make_shared<SynthArgs>();
    synth::SynthSpec& s = a->spec;
    CLI::App* cmd = root.add_subcommand(
        "synth", "a Gemma 4 GGUF with random weights, streamed (docs/design/synth.md)");
    std::vector<std::string> presets;
    for (std::string_view p : synth::preset_names()) presets.emplace_back(p);
    cmd->add_option("--preset", s.preset, "model shape")
        ->required()
        ->check(CLI::IsMember(presets))
        ->default_str("");
    add_quant_mix(*cmd, "--quant", s.quant, false, "llama.cpp's per-tensor types of this mix");
    cmd->add_option("-o", a->out, "the GGUF file to write")->required();
    cmd->add_option("--seed", s.seed, "weights seed")->check(any_u64());
    cmd->add_option("--layers", s.n_layer, "layers; default: the preset's")
        ->check(integer_at_least(1));
    cmd->add_option("--ctx", s.n_ctx, "training context; default: the preset's")
        ->check(integer_at_least(1));
    cmd->add_option("--vocab", s.vocab_file, "copy the tokenizer of this GGUF")
        ->check(CLI::ExistingFile)
        ->default_str("");
    cmd->add_option("--vocab-size", s.n_vocab, "tokens of the generated byte-level vocabulary")
        ->check(integer_at_least(1));
    cmd->add_option("--threads", s.n_threads, "0: every core")->check(integer_in(0, 256));
    cmd->add_flag("--split-experts", s.split_expert_gate_up, "separate expert gate/up tensors");
    cmd->add_flag("--untied-head", s.untied_head, "an output head of its own");
    return command(cmd, a, cmd_synth);
}

Command add_pack(CLI::App& root) {
    auto a = std::make_shared<SynthArgs>();
    synth::SynthSpec& s = a->spec;
    CLI::App* cmd = root.add_subcommand(
        "pack", "a Gemma 4 GGUF from trained f32 tensors (tools/train/, docs/design/synth.md)");
    cmd->add_option("WEIGHTS", s.weights_dir, "directory of config.json and <tensor>.f32 files")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--vocab", s.vocab_file, "the tokenizer GGUF the model was trained with")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("-o", a->out, "the GGUF file to write")->required();
    add_quant_mix(*cmd, "--quant", s.quant, false, "llama.cpp's per-tensor types of this mix");
    cmd->add_option("--ctx", s.n_ctx, "context length; default: config.json's")
        ->check(integer_at_least(1));
    cmd->add_option("--description", s.description, "general.description")->default_str("");
    cmd->add_option("--threads", s.n_threads, "0: every core")->check(integer_in(0, 256));
    return command(cmd, a, cmd_synth);  // spec.weights_dir set: trained weights
}

Command add_vocab_subset(CLI::App& root) {
    auto a = std::make_shared<VocabSubsetArgs>();
    CLI::App* cmd = root.add_subcommand(
        "vocab-subset", "a corpus-fitted subset of a Gemma 4 vocabulary, as a tokenizer GGUF");
    cmd->add_option("--from", a->from, "GGUF with the full tokenizer")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--corpus", a->corpus, "text file the subset is fitted to (repeatable)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--size", a->n_tokens, "tokens in the subset")
        ->check(integer_in(272, int64_t{1} << 24));
    cmd->add_option("-o", a->out, "the GGUF file to write")->required();
    return command(cmd, a, cmd_vocab_subset);
}

Command add_quantize(CLI::App& root) {
    auto a = std::make_shared<QuantizeArgs>();
    CLI::App* cmd = root.add_subcommand(
        "quantize", "an f32/f16/bf16 Gemma 4 GGUF quantized as llama-quantize does it");
    cmd->add_option("SRC", a->src, "the GGUF to quantize")->required()->check(CLI::ExistingFile);
    cmd->add_option("DST", a->dst, "the GGUF to write (as DST.tmp, renamed when complete)")
        ->required();
    add_quant_mix(*cmd, "--type", a->spec.mix, true, "llama.cpp's per-tensor types of this mix");
    cmd->add_option("--threads", a->spec.n_threads, "0: every core")->check(integer_in(0, 256));
    return command(cmd, a, cmd_quantize);
}

Command add_tokenize(CLI::App& root) {
    auto a = std::make_shared<TokenizeArgs>();
    CLI::App* cmd = root.add_subcommand("tokenize", "token ids of the text on stdin");
    add_model_path(*cmd, a->model);
    cmd->add_flag("--no-bos", a->no_bos, "no BOS token in front");
    cmd->add_flag("--no-special", a->no_special, "control-token texts stay text");
    cmd->add_flag("--json", a->json, "a JSON array");
    return command(cmd, a, cmd_tokenize);
}

Command add_detokenize(CLI::App& root) {
    auto a = std::make_shared<DetokenizeArgs>();
    CLI::App* cmd = root.add_subcommand(
        "detokenize", "text of the ids on stdin (a JSON array, or separated by spaces or commas)");
    add_model_path(*cmd, a->model);
    cmd->add_flag("--skip-special", a->skip_special, "leave out control tokens");
    return command(cmd, a, cmd_detokenize);
}

Command add_template(CLI::App& root) {
    auto a = std::make_shared<TemplateArgs>();
    CLI::App* cmd =
        root.add_subcommand("template", "the Gemma 4 chat prompt for the JSON request on stdin");
    add_model_path(*cmd, a->model);
    return command(cmd, a, cmd_template);
}

Command add_run(CLI::App& root) {
    auto a = std::make_shared<RunArgs>();
    // A bound by default: a raw prompt need never lead to an end-of-generation token.
    a->generation.params.max_tokens = 256;
    CLI::App* cmd =
        root.add_subcommand("run", "one generation streamed to stdout; seed and tok/s on stderr");
    add_model_options(*cmd, a->model, k_model_ctx);
    cmd->add_option("-p", a->prompt, "the prompt, used raw after a BOS; default: stdin");
    cmd->add_flag("--chat", a->chat, "the prompt as one user turn of the chat template");
    cmd->add_flag("--think", a->think, "with --chat: let the model think first");
    add_generation_options(*cmd, a->generation);
    return command(cmd, a, cmd_run);
}

Command add_chat(CLI::App& root) {
    auto a = std::make_shared<ChatArgs>();
    CLI::App* cmd = root.add_subcommand(
        "chat", "interactive conversation on stdin/stdout, KV cache reused across turns");
    add_model_options(*cmd, a->model, k_model_ctx);
    cmd->add_option("--system", a->system, "system prompt");
    cmd->add_flag("--think", a->think, "let the model think before answering");
    add_generation_options(*cmd, a->generation);
    return command(cmd, a, cmd_chat);
}

Command add_score(CLI::App& root) {
    auto a = std::make_shared<ScoreArgs>();
    CLI::App* cmd = root.add_subcommand(
        "score", "top-K log-probabilities after every input token, from one prefill");
    add_model_options(*cmd, a->model, "as many as the tokens");
    cmd->add_option("--tokens", a->tokens, "token ids ID,ID,...")->required();
    cmd->add_option("--top", a->top, "log-probabilities per position")->check(integer_in(1, 1000));
    cmd->add_flag("--json", a->json, "{\"positions\": [{\"top\": [[id, logprob], ...]}, ...]}");
    cmd->add_flag("--perplexity", a->perplexity,
                  "the perplexity of tokens 2..N given their prefixes instead of the top-K "
                  "lists (with --json: {\"n_predicted\", \"mean_nll\", \"perplexity\"})");
    return command(cmd, a, cmd_score);
}

Command add_serve(CLI::App& root) {
    auto a = std::make_shared<ServeArgs>();
    a->model.options.n_seq = 4;
    server::ServeOptions& s = a->serve;
    CLI::App* cmd = root.add_subcommand(
        "serve", "OpenAI-compatible HTTP server with continuous batching (docs/design/server.md)");
    add_model_options(*cmd, a->model, k_model_ctx);
    cmd->add_option("--host", s.http.host, "address to listen on");
    cmd->add_option("--port", s.http.port, "0: any free port")->check(integer_in(0, 65535));
    cmd->add_option("--parallel", a->model.options.n_seq, "slots: requests decoded together")
        ->check(integer_in(1, 256));
    cmd->add_option("--api-key", s.api.api_key, "required as 'Authorization: Bearer K'")
        ->envname("VKLLM_API_KEY");
    cmd->add_option("--queue", s.engine.max_queue, "requests waiting for a slot, then 429")
        ->check(integer_in(0, 1 << 20));
    cmd->add_option("--max-body-bytes", s.http.limits.max_body_bytes, "larger bodies get 413")
        ->check(integer_in(1024, int64_t{1} << 32));
    cmd->add_option("--max-tokens-limit", s.api.max_tokens_limit, "most tokens one request gets")
        ->check(integer_in(1, 1 << 24));
    cmd->add_option("--max-connections", s.http.max_connections, "open connections at most")
        ->check(integer_in(1, 100000));
    add_seconds(*cmd, "--read-timeout", s.http.read_timeout, "a request must arrive whole within");
    add_seconds(*cmd, "--idle-timeout", s.http.idle_timeout, "idle keep-alive connections close");
    cmd->add_option("--prefill-chunk", s.engine.prefill_chunk,
                    "tokens per model step: every slot's decode token, prompt chunks in the rest")
        ->check(integer_in(1, 1 << 16));
    cmd->add_option("--alias", a->alias, "the model id in the API; default: the file name");
    return command(cmd, a, cmd_serve);
}

}  // namespace

std::vector<Command> add_commands(CLI::App& root, const std::string& command_line) {
    std::vector<Command> commands = {add_devices(root), add_info(root)};
    CLI::App* bench = root.add_subcommand("bench", "benchmarks, recorded as JSON lines");
    bench->require_subcommand(1);
    commands.push_back(add_bench_ops(*bench, command_line));
    commands.push_back(add_bench_model(*bench, command_line));
    for (auto add : {add_synth, add_pack, add_vocab_subset, add_quantize, add_tokenize,
                     add_detokenize, add_template, add_run, add_chat, add_score, add_serve}) {
        commands.push_back(add(root));
    }
    return commands;
}

}  // namespace vkllm::cli
