#include "tools/cli_generation.h"

#include <CLI/CLI.hpp>
#include <limits>
#include <string>

#include "tools/cli_checks.h"

namespace vkllm::cli {

void add_generation_options(CLI::App& command, GenerationArgs& args) {
    GenerationParams& g = args.params;
    command.add_option("-n", g.max_tokens, "tokens to generate; -1: until end of generation")
        ->check(integer_at_least(-1));
    const std::string group = "Sampling options";
    SamplingParams& s = g.sampling;
    const auto option = [&](const std::string& name, auto& value, const std::string& help) {
        return command.add_option(name, value, help)->group(group);
    };
    option("--temp", s.temperature, "temperature; 0: greedy")->check(number_at_least(0));
    option("--top-k", s.top_k, "keep the K most likely tokens; 0: off")->check(integer_at_least(0));
    option("--top-p", s.top_p, "keep the most likely tokens up to this probability mass; 1: off")
        ->check(number_in(0, 1, /*min_excluded=*/true));
    option("--min-p", s.min_p, "drop tokens below this fraction of the best one's probability")
        ->check(number_in(0, 1));
    option("--repeat-penalty", s.repeat_penalty, "divide the logits of recent tokens; 1: off")
        ->check(number_at_least(0, /*min_excluded=*/true));
    option("--repeat-last-n", s.repeat_last_n, "recent tokens the penalties look at; 0: off")
        ->check(integer_at_least(0));
    option("--presence-penalty", s.presence_penalty, "subtract from tokens already generated")
        ->check(finite_number());
    option("--frequency-penalty", s.frequency_penalty, "subtract per occurrence")
        ->check(finite_number());
    option("--seed", args.seed, "random seed")->check(any_u64())->default_str("random");
    // One string per --stop (a string may start with '-'), every occurrence kept.
    option("--stop", g.stop, "stop at this string (repeatable; a newline: $'\\n')")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->default_str("");
    command.add_flag("--ignore-eos", g.ignore_eos, "ban the end-of-generation tokens")
        ->group(group);
}

GenerationParams generation_params(const GenerationArgs& args, uint64_t random_seed) {
    GenerationParams g = args.params;
    g.sampling.seed = args.seed.value_or(random_seed);
    const Sampler check(g.sampling, 1);
    return g;
}

}  // namespace vkllm::cli
