#pragma once
// Bounds-checked little-endian cursor over a byte span. Every read checks the bytes left before
// touching memory and throws ModelFileError naming what was being read, at which offset, and that
// the file is truncated. Strings are returned as views into the span (no allocation), so a hostile
// length can never cause a large allocation.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace vkllm {

class GgufReader {
  public:
    // llama.cpp's limit for strings and array counts (formats.md §1.2); anything larger is corrupt.
    static constexpr uint64_t k_max_length = uint64_t{1} << 30;

    GgufReader(std::span<const std::byte> bytes, std::string name);

    size_t offset() const { return pos_; }
    size_t size() const { return bytes_.size(); }
    size_t remaining() const { return bytes_.size() - pos_; }
    const std::string& name() const { return name_; }
    std::span<const std::byte> bytes() const { return bytes_; }

    // `what` describes the field for error messages, e.g. "tensor count".
    uint8_t read_u8(std::string_view what) { return read_le<uint8_t>(what); }
    uint16_t read_u16(std::string_view what) { return read_le<uint16_t>(what); }
    uint32_t read_u32(std::string_view what) { return read_le<uint32_t>(what); }
    uint64_t read_u64(std::string_view what) { return read_le<uint64_t>(what); }
    int8_t read_i8(std::string_view what) { return read_le<int8_t>(what); }
    int16_t read_i16(std::string_view what) { return read_le<int16_t>(what); }
    int32_t read_i32(std::string_view what) { return read_le<int32_t>(what); }
    int64_t read_i64(std::string_view what) { return read_le<int64_t>(what); }
    float read_f32(std::string_view what) { return read_le<float>(what); }
    double read_f64(std::string_view what) { return read_le<double>(what); }
    // Any non-zero byte is true, as in llama.cpp.
    bool read_bool(std::string_view what) { return read_le<uint8_t>(what) != 0; }

    // u64 length then that many bytes; the length is checked against the bytes left and
    // k_max_length before anything is read.
    std::string_view read_string(std::string_view what);

    // Returns a view of the next n bytes and advances past them.
    std::span<const std::byte> read_bytes(uint64_t n, std::string_view what);

    // Advances to absolute offset `pos` (<= size()).
    void seek(uint64_t pos, std::string_view what);

    // Throws the standard truncation error if fewer than n bytes are left.
    void require(uint64_t n, std::string_view what) const;

    // Throws ModelFileError "<name>: at byte <offset>: <detail>".
    [[noreturn]] void fail(const std::string& detail) const;
    [[noreturn]] void fail_at(size_t at, const std::string& detail) const;

  private:
    // Host order is little-endian on every platform we target (x86-64, aarch64), so a memcpy is the
    // decode; the static_assert keeps a big-endian port from silently misreading.
    template <typename T>
    T read_le(std::string_view what) {
        static_assert(std::is_arithmetic_v<T>);
        require(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::span<const std::byte> bytes_;
    std::string name_;
    size_t pos_ = 0;
};

}  // namespace vkllm
