#pragma once
// The generation options of `vkllm run` and `vkllm chat`: -n, the sampling options, --stop and
// --ignore-eos, declared once here with their defaults and ranges.

#include <cstdint>
#include <optional>

#include "runtime/generate/generation.h"

// CLI11 is included only where options are declared: it costs seconds per translation unit.
namespace CLI {
class App;
}

namespace vkllm::cli {

struct GenerationArgs {
    GenerationParams params;       // the defaults shown in --help are the values set before
    std::optional<uint64_t> seed;  // absent: a random seed (printed by the command)
};

// Declares -n on `command` and, in the "Sampling options" group, --temp, --top-k, --top-p,
// --min-p, --repeat-penalty, --repeat-last-n, --presence-penalty, --frequency-penalty, --seed,
// --stop (repeatable) and --ignore-eos, parsed into `args` (which must outlive the parse).
void add_generation_options(CLI::App& command, GenerationArgs& args);

// The parameters with the seed resolved (`random_seed` when --seed is absent). Constructing a
// Sampler checks what the option ranges cannot (it throws std::invalid_argument naming the field).
GenerationParams generation_params(const GenerationArgs& args, uint64_t random_seed);

}  // namespace vkllm::cli
