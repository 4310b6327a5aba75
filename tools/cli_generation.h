#pragma once
// Sampling and generation options shared by `vkllm run` and `vkllm chat`, parsed from the
// command line with errors that name the option.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/generate/generation.h"
#include "tools/cli_args.h"

namespace vkllm::cli {

// The value of `name` as a number (or `fallback` when absent). Throws std::invalid_argument
// "--temp: expected a number, got 'abc'" for text that is not entirely a number, and for an
// integer outside [min, max].
double number_option(const Args& args, const std::string& name, double fallback);
int64_t integer_option(const Args& args, const std::string& name, int64_t fallback, int64_t min,
                       int64_t max);

// -n, --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n, --presence-penalty,
// --frequency-penalty, --seed, --stop (repeatable), --ignore-eos. `random_seed` is used when
// --seed is absent. Values are range-checked by constructing a Sampler.
GenerationParams generation_from_args(const Args& args, int32_t default_max_tokens,
                                      uint64_t random_seed);

// The option names above plus -m and the model options (model_args.h), for Args::allow_only.
std::vector<std::string> generation_option_names();

}  // namespace vkllm::cli
