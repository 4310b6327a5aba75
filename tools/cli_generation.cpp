#include "tools/cli_generation.h"

#include <charconv>
#include <stdexcept>

namespace vkllm::cli {
namespace {

[[noreturn]] void bad_value(const std::string& name, const std::string& what,
                            const std::string& text) {
    throw std::invalid_argument(name + ": expected " + what + ", got '" + text + "'");
}

// The whole of `text` as a T (no trailing characters, no overflow).
template <typename T>
T parse_whole(const std::string& name, const std::string& text, const std::string& what) {
    T v{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end) bad_value(name, what, text);
    return v;
}

}  // namespace

double number_option(const Args& args, const std::string& name, double fallback) {
    const auto text = args.get(name);
    return text ? parse_whole<double>(name, *text, "a number") : fallback;
}

int64_t integer_option(const Args& args, const std::string& name, int64_t fallback, int64_t min,
                       int64_t max) {
    const auto text = args.get(name);
    if (!text) return fallback;
    const auto v = parse_whole<int64_t>(name, *text, "an integer");
    if (v < min || v > max) {
        bad_value(name, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]",
                  *text);
    }
    return v;
}

GenerationParams generation_from_args(const Args& args, int32_t default_max_tokens,
                                      uint64_t random_seed) {
    constexpr int64_t k_i32_max = INT32_MAX;
    GenerationParams g;
    g.max_tokens =
        static_cast<int32_t>(integer_option(args, "-n", default_max_tokens, -1, k_i32_max));
    g.stop = args.get_all("--stop");
    g.ignore_eos = args.has("--ignore-eos");
    SamplingParams& s = g.sampling;
    const auto f = [&](const std::string& name, float fallback) {
        return static_cast<float>(number_option(args, name, static_cast<double>(fallback)));
    };
    s.temperature = f("--temp", s.temperature);
    s.top_k = static_cast<int32_t>(integer_option(args, "--top-k", s.top_k, 0, k_i32_max));
    s.top_p = f("--top-p", s.top_p);
    s.min_p = f("--min-p", s.min_p);
    s.repeat_penalty = f("--repeat-penalty", s.repeat_penalty);
    s.repeat_last_n = static_cast<int32_t>(
        integer_option(args, "--repeat-last-n", s.repeat_last_n, 0, k_i32_max));
    s.presence_penalty = f("--presence-penalty", s.presence_penalty);
    s.frequency_penalty = f("--frequency-penalty", s.frequency_penalty);
    const auto seed = args.get("--seed");
    s.seed = seed ? parse_whole<uint64_t>("--seed", *seed, "a non-negative integer") : random_seed;
    // Constructing a sampler checks every range; the messages name the SamplingParams field.
    Sampler check(s, 1);
    return g;
}

std::vector<std::string> generation_option_names() {
    // clang-format off
    return {"-m", "--model", "-n", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
            "--repeat-last-n", "--presence-penalty", "--frequency-penalty", "--seed", "--stop",
            "--ignore-eos", "--ctx", "--kv-k", "--kv-v", "--device"};
    // clang-format on
}

}  // namespace vkllm::cli
