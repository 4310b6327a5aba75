// vkllm: command-line entry. Errors from any subcommand end here as a message and exit code 1;
// nothing below main() calls exit().

#include <cstdio>
#include <exception>
#include <string>

#include "tools/commands.h"

namespace {

void usage() {
    std::printf(
        "usage: vkllm <command> [options]\n"
        "  devices [--validation] [--profile NAME]\n"
        "                                list Vulkan devices, what vkllm can use and the kernel\n"
        "                                paths each gets (NAME: a device profile for testing)\n"
        "  info MODEL [--tensors] [--ctx N] [--parallel N] [--kv-k T] [--kv-v T]\n"
        "                                metadata, tensors, quant mix, memory plan\n"
        "  bench ops [--device N|name] [--types ..] [--shapes KxN,..] [--ncols N] [--repeat N]\n"
        "                                mat-vec GB/s at Gemma 4 shapes vs copy bandwidth\n"
        "  bench model -m MODEL [--prompt N] [--gen N] [--batches 1,2,4,8] [--kv-k T] [--kv-v T]\n"
        "                                prefill/decode tok/s, decode GB/s vs copy bandwidth\n"
        "  synth --preset NAME --quant MIX -o FILE [--seed S] [--layers N] [--ctx N]\n"
        "        [--vocab FILE | --vocab-size N] [--threads N]   random-weight Gemma 4 GGUF;\n"
        "        presets tiny-dense tiny-moe tiny-ple 26b-a4b 31b 12b e4b e2b,\n"
        "        mixes f32 f16 q8_0 q4_0 q4_k_m q5_k_m (llama.cpp's per-tensor types);\n"
        "        [--split-experts] separate expert gate/up, [--untied-head] an output head\n"
        "  quantize SRC DST --type q8_0|q4_0|q4_k_m|q5_k_m [--threads N]\n"
        "                                an f32/f16/bf16 Gemma 4 GGUF quantized as llama-quantize\n"
        "                                does it (same per-tensor types, same bytes)\n"
        "  tokenize -m MODEL [--no-bos] [--no-special] [--json]   ids of the text on stdin\n"
        "  detokenize -m MODEL [--skip-special]   text of the ids on stdin (JSON array or list)\n"
        "  template -m MODEL               chat prompt for the JSON request on stdin\n"
        "  run -m MODEL -p TEXT [-n N] [--chat] [--think] [sampling] [model]   one generation\n"
        "  chat -m MODEL [--system TEXT] [--think] [sampling] [model]   interactive, KV reused\n"
        "  score -m MODEL --tokens ID,ID,.. [--top K] [--json] [model]   top-K logprobs\n"
        "  serve -m MODEL [--host H] [--port P] [--parallel N] [--api-key K] [--queue N]\n"
        "        [--max-body-bytes B] [--max-tokens-limit N] [--max-connections N]\n"
        "        [--read-timeout S] [--idle-timeout S] [--prefill-chunk N] [--alias ID] [model]\n"
        "                                OpenAI-compatible HTTP server, continuous batching\n"
        "    sampling: --temp T --top-k K --top-p P --min-p P --repeat-penalty R\n"
        "              --repeat-last-n N --presence-penalty X --frequency-penalty X --seed S\n"
        "              --stop STR.. --ignore-eos\n"
        "    model:    --ctx N --kv-k f16|q8_0 --kv-v f16|q8_0 --device N|name\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    const std::string cmd = argv[1];
    try {
        using namespace vkllm::cli;
        if (cmd == "devices") return cmd_devices(Args(argc, argv, 2, {"--validation"}));
        if (cmd == "info") return cmd_info(Args(argc, argv, 2, {"--tensors"}));
        if (cmd == "synth") {
            return cmd_synth(Args(argc, argv, 2, {"--split-experts", "--untied-head"}));
        }
        if (cmd == "quantize") return cmd_quantize(Args(argc, argv, 2, {}));
        if (cmd == "bench") return cmd_bench(Args(argc, argv, 2, {}));
        if (cmd == "tokenize") {
            return cmd_tokenize(Args(argc, argv, 2, {"--no-bos", "--no-special", "--json"}));
        }
        if (cmd == "detokenize") return cmd_detokenize(Args(argc, argv, 2, {"--skip-special"}));
        if (cmd == "template") return cmd_template(Args(argc, argv, 2, {}));
        if (cmd == "run") {
            return cmd_run(Args(argc, argv, 2, {"--chat", "--think", "--ignore-eos"}));
        }
        if (cmd == "chat") return cmd_chat(Args(argc, argv, 2, {"--think", "--ignore-eos"}));
        if (cmd == "score") return cmd_score(Args(argc, argv, 2, {"--json"}));
        if (cmd == "serve") return cmd_serve(Args(argc, argv, 2, {}));
        if (cmd == "--help" || cmd == "-h" || cmd == "help") {
            usage();
            return 0;
        }
        std::fprintf(stderr, "vkllm: unknown command '%s'\n", cmd.c_str());
        usage();
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vkllm %s: error: %s\n", cmd.c_str(), e.what());
        return 1;
    }
}
