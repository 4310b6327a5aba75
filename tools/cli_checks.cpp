#include "tools/cli_checks.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace vkllm::cli {
namespace {

// The whole of `text` as a T in base 10, or false.
template <typename T>
bool parse_whole(const std::string& text, T& value) {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    return !text.empty() && ec == std::errc() && ptr == end;
}

// 16777216 as "2^24": the large bounds are powers of two.
std::string integer_text(int64_t v) {
    if (v >= (1 << 16) && (v & (v - 1)) == 0) {
        int log2 = 0;
        while ((int64_t{1} << log2) != v) ++log2;
        return "2^" + std::to_string(log2);
    }
    return std::to_string(v);
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// `what` names the accepted values in the error ("an integer in [1, 64]"); `interval` is the help.
template <typename T>
CLI::Validator integer_check(T min, T max, const std::string& what, const std::string& interval) {
    return CLI::Validator(
        [min, max, what](std::string& text) -> std::string {
            // Plain decimal only ("010" is not 10), since CLI11 converts the same text afterwards.
            T v = 0;
            if (!parse_whole(text, v) || text != std::to_string(v) || v < min || v > max) {
                return "expected " + what + ", got '" + text + "'";
            }
            return {};
        },
        interval);
}

CLI::Validator number_check(double min, double max, bool min_excluded, const std::string& what,
                            const std::string& interval) {
    return CLI::Validator(
        [min, max, min_excluded, what](std::string& text) -> std::string {
            double v = 0;
            const bool ok = parse_whole(text, v) && std::isfinite(v) &&
                            (min_excluded ? v > min : v >= min) && v <= max;
            return ok ? std::string() : "expected " + what + ", got '" + text + "'";
        },
        interval);
}

}  // namespace

CLI::Validator integer_in(int64_t min, int64_t max) {
    const std::string interval = "[" + integer_text(min) + ", " + integer_text(max) + "]";
    return integer_check(min, max, "an integer in " + interval, interval);
}

CLI::Validator integer_at_least(int64_t min) {
    const std::string interval = "[" + integer_text(min) + ", inf)";
    return integer_check(min, std::numeric_limits<int64_t>::max(), "an integer in " + interval,
                         interval);
}

CLI::Validator any_u64() {
    return integer_check<uint64_t>(0, std::numeric_limits<uint64_t>::max(),
                                   "an integer in [0, 2^64)", "[0, 2^64)");
}

CLI::Validator number_in(double min, double max, bool min_excluded) {
    const std::string interval =
        (min_excluded ? "(" : "[") + number_text(min) + ", " + number_text(max) + "]";
    return number_check(min, max, min_excluded, "a number in " + interval, interval);
}

CLI::Validator number_at_least(double min, bool min_excluded) {
    const std::string interval = (min_excluded ? "(" : "[") + number_text(min) + ", inf)";
    return number_check(min, std::numeric_limits<double>::max(), min_excluded,
                        "a number in " + interval, interval);
}

CLI::Validator finite_number() {
    const double max = std::numeric_limits<double>::max();
    return number_check(-max, max, false, "a finite number", "finite");
}

}  // namespace vkllm::cli
