#include "loader/gguf_reader.h"

#include <bit>
#include <utility>

#include "loader/model_file_error.h"

namespace vkllm {

static_assert(std::endian::native == std::endian::little,
              "GGUF decoding assumes a little-endian host");

GgufReader::GgufReader(std::span<const std::byte> bytes, std::string name)
    : bytes_(bytes), name_(std::move(name)) {}

void GgufReader::fail(const std::string& detail) const {
    fail_at(pos_, detail);
}

void GgufReader::fail_at(size_t at, const std::string& detail) const {
    throw ModelFileError(name_, "at byte " + std::to_string(at) + ": " + detail);
}

void GgufReader::require(uint64_t n, std::string_view what) const {
    if (n <= remaining()) return;
    fail("unexpected end of file while reading " + std::string(what) + " (need " +
         std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left of " +
         describe_bytes(size()) + "): the file is truncated (incomplete download or copy?)");
}

std::string_view GgufReader::read_string(std::string_view what) {
    const size_t start = pos_;
    const uint64_t len = read_u64(what);
    if (len > k_max_length) {
        fail_at(start, std::string(what) + " has length " + std::to_string(len) +
                           ", above the 1 GiB limit for GGUF strings: the file is corrupt");
    }
    if (len > remaining()) {
        fail_at(start, std::string(what) + " has length " + std::to_string(len) + " but only " +
                           std::to_string(remaining()) +
                           " bytes are left: the file is truncated or the length is corrupt");
    }
    const auto* p = reinterpret_cast<const char*>(bytes_.data() + pos_);
    pos_ += static_cast<size_t>(len);
    return {p, static_cast<size_t>(len)};
}

std::span<const std::byte> GgufReader::read_bytes(uint64_t n, std::string_view what) {
    require(n, what);
    std::span<const std::byte> out = bytes_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
}

void GgufReader::seek(uint64_t pos, std::string_view what) {
    if (pos > size()) {
        fail("cannot seek to " + std::string(what) + " at byte " + std::to_string(pos) +
             ", past the end of the " + describe_bytes(size()) +
             " file: the file is truncated (incomplete download or copy?)");
    }
    pos_ = static_cast<size_t>(pos);
}

}  // namespace vkllm
