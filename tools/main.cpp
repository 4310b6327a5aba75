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
        "  devices [--validation]        list Vulkan devices and what vkllm can use\n"
        "  info MODEL [--tensors] [--ctx N]  GGUF metadata, tensors, quant mix, KV estimate\n"
        "  bench ops [--device N|name] [--types ..] [--shapes KxN,..] [--ncols N] [--repeat N]\n"
        "                                mat-vec GB/s at Gemma 4 shapes vs copy bandwidth\n");
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
        if (cmd == "bench") return cmd_bench(Args(argc, argv, 2, {}));
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
