#pragma once
// The one exception type for "this model file is unusable" (style.md §2.4). The message always
// names the file, where in it the problem is (byte offset, key or tensor), what was expected
// versus found, and the most likely cause, so a user can act on it without a hex dump.

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace vkllm {

class ModelFileError : public std::runtime_error {
  public:
    ModelFileError(std::string path, std::string detail)
        : std::runtime_error(path + ": " + detail),
          path_(std::move(path)),
          detail_(std::move(detail)) {}

    // The file (or in-memory buffer name) the error is about.
    const std::string& path() const { return path_; }
    // The message without the path prefix.
    const std::string& detail() const { return detail_; }

  private:
    std::string path_;
    std::string detail_;
};

// "1234 bytes" below 1 KiB, otherwise "1234567 bytes (1.2 MiB)": the exact number for tooling and
// the rounded one for humans comparing against `ls -lh`.
inline std::string describe_bytes(uint64_t n, const char* unit_word = " bytes") {
    std::string out = std::to_string(n) + unit_word;
    if (n < 1024) return out;
    const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(n) / 1024.0;
    size_t unit = 0;
    while (v >= 1024.0 && unit + 1 < std::size(units)) {
        v /= 1024.0;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), " (%.1f %s)", v, units[unit]);
    return out + buf;
}

// A byte position: "1234567 (1.2 MiB)".
inline std::string describe_position(uint64_t n) {
    return describe_bytes(n, "");
}

}  // namespace vkllm
