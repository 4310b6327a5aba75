#pragma once
// Value checks for the vkllm options (CLI11 validators). Each shows its range in the help as an
// interval after the type ("INT:[1, 64]", "FLOAT:(0, 1]", "FLOAT:[0, inf)") and rejects a bad
// value with "expected an integer in [1, 64], got 'x'", which CLI11 prefixes with the option
// name. They replace CLI11's own ranges, which print doubles with six decimals and an open end
// as 1.8e308 written out, and they accept plain decimal integers only: CLI11's conversion takes
// "010" as octal and a negative number as a huge unsigned one.

#include <CLI/CLI.hpp>
#include <cstdint>

namespace vkllm::cli {

// A plain decimal integer ("12", "-1"; not "010", "+3" or "0x10") in [min, max]: CLI11 converts
// the same text afterwards and would read those otherwise.
CLI::Validator integer_in(int64_t min, int64_t max);
// A plain decimal integer >= min; the option's type bounds the top (CLI11 reports an overflow).
CLI::Validator integer_at_least(int64_t min);
// A plain decimal integer in [0, 2^64) (seeds).
CLI::Validator any_u64();

// A finite number in [min, max], or (min, max] with `min_excluded`.
CLI::Validator number_in(double min, double max, bool min_excluded = false);
// A finite number >= min, or > min with `min_excluded`.
CLI::Validator number_at_least(double min, bool min_excluded = false);
// Any finite number.
CLI::Validator finite_number();

}  // namespace vkllm::cli
