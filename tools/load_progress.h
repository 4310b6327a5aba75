#pragma once
// What the CLI shows while a model loads: the memory plan (with the KV cache per layer kind, and a
// warning when the context is past the model's trained length), a weight-upload progress bar on a
// terminal (a log file gets only the summary line), and the time it took. The runtime only
// reports through ModelOptions' callbacks; drawing is the tool's job.

#include "runtime/model/gemma4_model.h"

namespace vkllm::cli {

// Sets options.on_plan and options.on_upload to report on stderr.
void report_load_on_stderr(ModelOptions& options);

}  // namespace vkllm::cli
