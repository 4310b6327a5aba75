#pragma once
// Entry points of the vkllm subcommands; each returns the process exit code.

#include "tools/cli_args.h"

namespace vkllm::cli {

int cmd_devices(const Args& args);
int cmd_bench(const Args& args);
int cmd_info(const Args& args);
int cmd_synth(const Args& args);
int cmd_quantize(const Args& args);
int cmd_tokenize(const Args& args);
int cmd_detokenize(const Args& args);
int cmd_template(const Args& args);
int cmd_run(const Args& args);
int cmd_chat(const Args& args);
int cmd_score(const Args& args);
int cmd_serve(const Args& args);

}  // namespace vkllm::cli
