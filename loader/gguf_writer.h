#pragma once
// Streaming GGUF v3 writer (formats.md §1). Metadata and tensor infos are small and buffered;
// tensor data is produced one tensor at a time at write() by a callback, so a large synthetic
// model never has to be in memory at once. Output follows every rule GgufFile enforces: tight
// tensor packing in info order, zero padding to the alignment after the infos and after every
// tensor (including the last).
//
// Misuse (duplicate key, bad shape, producer writing the wrong byte count) throws
// std::invalid_argument / std::runtime_error: it is a bug in the caller, not a bad model file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "loader/ggml_type.h"
#include "loader/gguf_file.h"

namespace vkllm {

template <typename T>
constexpr GgufValueType gguf_value_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>)
        return GgufValueType::U8;
    else if constexpr (std::is_same_v<T, int8_t>)
        return GgufValueType::I8;
    else if constexpr (std::is_same_v<T, uint16_t>)
        return GgufValueType::U16;
    else if constexpr (std::is_same_v<T, int16_t>)
        return GgufValueType::I16;
    else if constexpr (std::is_same_v<T, uint32_t>)
        return GgufValueType::U32;
    else if constexpr (std::is_same_v<T, int32_t>)
        return GgufValueType::I32;
    else if constexpr (std::is_same_v<T, float>)
        return GgufValueType::F32;
    else if constexpr (std::is_same_v<T, uint64_t>)
        return GgufValueType::U64;
    else if constexpr (std::is_same_v<T, int64_t>)
        return GgufValueType::I64;
    else if constexpr (std::is_same_v<T, double>)
        return GgufValueType::F64;
    else
        static_assert(sizeof(T) == 0, "not a fixed-size GGUF numeric type");
}

// An encoded array value (element type, count, packed elements). Nesting is possible through
// of_arrays(), but llama.cpp rejects nested arrays, so real model files should not use it.
class GgufWriteArray {
  public:
    template <typename T>
    static GgufWriteArray of(std::span<const T> values) {
        GgufWriteArray a(gguf_value_type_of<T>(), values.size());
        a.append_raw(std::as_bytes(values));
        return a;
    }
    static GgufWriteArray of_bools(const std::vector<bool>& values);
    static GgufWriteArray of_strings(std::span<const std::string_view> values);
    static GgufWriteArray of_strings(std::span<const std::string> values);
    static GgufWriteArray of_arrays(std::span<const GgufWriteArray> values);
    // The array `value` (is_array()) as read from a GgufFile, element bytes unchanged.
    static GgufWriteArray of_value(const GgufValue& value);

    GgufValueType elem_type() const { return elem_type_; }
    uint64_t count() const { return count_; }
    // Element type, count, elements: the encoding that follows the ARRAY type tag.
    void encode_to(std::string& out) const;

  private:
    GgufWriteArray(GgufValueType elem_type, uint64_t count)
        : elem_type_(elem_type), count_(count) {}
    void append_raw(std::span<const std::byte> b);

    GgufValueType elem_type_;
    uint64_t count_;
    std::string bytes_;
};

// Counts what a tensor producer writes so the writer can verify it against the declared shape.
class TensorSink {
  public:
    explicit TensorSink(std::ostream& out) : out_(out) {}
    void write(std::span<const std::byte> bytes);
    uint64_t written() const { return written_; }

  private:
    std::ostream& out_;
    uint64_t written_ = 0;
};

using TensorProducer = std::function<void(TensorSink&)>;

class GgufWriter {
  public:
    // A non-default alignment is recorded as general.alignment (u32): where the caller adds that
    // key, else before any other key, so readers see it before the tensor infos whose offsets
    // depend on it.
    explicit GgufWriter(uint32_t alignment = GgufFile::k_default_alignment);

    void add_u8(std::string_view key, uint8_t v) { add_fixed(key, v); }
    void add_i8(std::string_view key, int8_t v) { add_fixed(key, v); }
    void add_u16(std::string_view key, uint16_t v) { add_fixed(key, v); }
    void add_i16(std::string_view key, int16_t v) { add_fixed(key, v); }
    // general.alignment may be written here too (as llama.cpp files do) if it matches the
    // constructor's alignment.
    void add_u32(std::string_view key, uint32_t v);
    void add_i32(std::string_view key, int32_t v) { add_fixed(key, v); }
    void add_u64(std::string_view key, uint64_t v) { add_fixed(key, v); }
    void add_i64(std::string_view key, int64_t v) { add_fixed(key, v); }
    void add_f32(std::string_view key, float v) { add_fixed(key, v); }
    void add_f64(std::string_view key, double v) { add_fixed(key, v); }
    void add_bool(std::string_view key, bool v);
    void add_string(std::string_view key, std::string_view v);
    void add_array(std::string_view key, const GgufWriteArray& array);
    template <typename T>
    void add_array(std::string_view key, std::span<const T> values) {
        add_array(key, GgufWriteArray::of(values));
    }
    // A value read from a GgufFile, re-encoded byte for byte (type, count and element bytes),
    // so copying metadata between files changes nothing.
    void add_value(std::string_view key, const GgufValue& value);

    // ne in GGUF order (ne[0] innermost), 1..4 dims. The data is copied.
    void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne,
                    std::vector<std::byte> data);
    // The producer is called during write() and must write exactly the tensor's byte size.
    void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne,
                    TensorProducer produce);

    size_t kv_count() const { return n_kv_ + (implicit_alignment_key() ? 1 : 0); }
    size_t tensor_count() const { return tensors_.size(); }

    void write(std::ostream& out) const;
    // Throws std::runtime_error naming the path if it cannot be created or written.
    void write_file(const std::filesystem::path& path) const;
    std::vector<std::byte> to_bytes() const;

  private:
    struct PendingTensor {
        std::string name;
        GgmlType type;
        std::vector<uint64_t> ne;
        uint64_t offset;
        uint64_t size_bytes;
        TensorProducer produce;
    };

    template <typename T>
    void add_fixed(std::string_view key, T v) {
        begin_kv(key, gguf_value_type_of<T>());
        const auto b = std::as_bytes(std::span<const T, 1>(&v, 1));
        kv_bytes_.append(reinterpret_cast<const char*>(b.data()), b.size());
    }
    void begin_kv(std::string_view key, GgufValueType type);
    bool implicit_alignment_key() const {
        return alignment_ != GgufFile::k_default_alignment && !keys_.contains("general.alignment");
    }
    uint64_t checked_tensor_size(const std::string& name, GgmlType type,
                                 const std::vector<uint64_t>& ne) const;

    uint32_t alignment_;
    std::string kv_bytes_;  // encoded metadata records, in add order
    size_t n_kv_ = 0;
    std::unordered_set<std::string> keys_;
    std::vector<PendingTensor> tensors_;
    std::unordered_set<std::string> tensor_names_;
    uint64_t next_offset_ = 0;
};

}  // namespace vkllm
