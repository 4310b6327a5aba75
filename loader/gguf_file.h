#pragma once
// A parsed GGUF v2/v3 file (formats.md §1): metadata, tensor table and tensor data spans.
//
// Invariant: a GgufFile that exists is fully validated. Every structural check (magic, version,
// counts against bytes left, value types, string/array lengths, alignment, tensor types, shapes,
// byte sizes, bounds, overlap, duplicates) happens inside open()/parse(), which throw
// ModelFileError. Nothing is allocated in proportion to a count before that count has been checked
// against the bytes that remain, so hostile files fail fast. Later code (config, upload) can index
// tensor data without re-checking bounds.
//
// Views (keys, strings, data spans) point into the file bytes: into the mapping for open(), into
// the caller's buffer for parse() — that buffer must outlive the GgufFile.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loader/ggml_type.h"
#include "loader/mapped_file.h"

namespace vkllm {

enum class GgufValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

// "u32", "string", ... ; "type 13" style text for ids outside 0..12.
std::string gguf_type_name(GgufValueType type);
// Bytes of one fixed-size value; 0 for STRING and ARRAY.
size_t gguf_scalar_size(GgufValueType type);

// One metadata value. Fixed-size scalars and fixed-size array payloads stay as raw little-endian
// bytes in the file and are decoded on access; that keeps a 262k-entry f32 array zero-copy.
struct GgufValue {
    GgufValueType type = GgufValueType::U8;
    std::span<const std::byte> raw;  // fixed-size scalar, or packed array of fixed-size elems
    std::string_view str;            // STRING
    GgufValueType elem_type = GgufValueType::U8;  // ARRAY only
    uint64_t count = 0;                           // ARRAY only
    std::vector<std::string_view> strings;        // ARRAY of STRING
    std::vector<GgufValue> items;                 // ARRAY of ARRAY (nested; depth-limited)

    bool is_array() const { return type == GgufValueType::ARRAY; }
    // "u32" or "array of u32" / "array of array of string".
    std::string type_description() const;
};

struct GgufKv {
    std::string_view key;
    GgufValue value;
};

struct TensorInfo {
    std::string name;
    GgmlType type = GgmlType::F32;
    std::array<uint64_t, 4> ne{1, 1, 1, 1};  // GGUF order, ne[0] innermost; missing dims are 1
    uint32_t n_dims = 0;
    uint64_t offset = 0;  // relative to data_offset(); a multiple of alignment()
    uint64_t size_bytes = 0;

    uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
  public:
    static constexpr uint32_t k_default_alignment = 32;
    static constexpr uint32_t k_max_dims = 4;
    static constexpr size_t k_max_tensor_name = 63;  // GGML_MAX_NAME minus the NUL
    static constexpr int k_max_array_depth = 4;      // nested arrays are an extension; keep shallow

    // Memory-maps and validates `path`.
    static GgufFile open(const std::filesystem::path& path);
    // Validates in-memory bytes; `name` is used in error messages. `bytes` must outlive the result.
    static GgufFile parse(std::span<const std::byte> bytes, std::string name);

    const std::string& name() const { return name_; }
    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section
    uint64_t file_size() const { return bytes_.size(); }
    std::span<const std::byte> bytes() const { return bytes_; }

    // ---- metadata --------------------------------------------------------------------------
    const std::vector<GgufKv>& metadata() const { return kvs_; }
    const GgufValue* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // find_*: nullopt if the key is absent; throws ModelFileError if present with an unusable type.
    // get_*: as find_*, but a missing key throws too ("required key ... is missing").
    // Integer targets accept any integer GGUF type whose value fits; float targets accept f32, f64
    // and integers; bool accepts bool and integers (non-zero = true); string_view accepts string.
    template <typename T>
    std::optional<T> find_scalar(std::string_view key) const;
    template <typename T>
    T get_scalar(std::string_view key) const;
    template <typename T>
    std::optional<std::vector<T>> find_array(std::string_view key) const;
    template <typename T>
    std::vector<T> get_array(std::string_view key) const;
    // A per-layer key may be a scalar (broadcast to every layer) or an array of exactly n_layers.
    template <typename T>
    std::optional<std::vector<T>> find_per_layer(std::string_view key, size_t n_layers) const;
    template <typename T>
    std::vector<T> get_per_layer(std::string_view key, size_t n_layers) const;

    std::optional<uint32_t> find_u32(std::string_view k) const { return find_scalar<uint32_t>(k); }
    std::optional<int32_t> find_i32(std::string_view k) const { return find_scalar<int32_t>(k); }
    std::optional<uint64_t> find_u64(std::string_view k) const { return find_scalar<uint64_t>(k); }
    std::optional<float> find_f32(std::string_view k) const { return find_scalar<float>(k); }
    std::optional<bool> find_bool(std::string_view k) const { return find_scalar<bool>(k); }
    std::optional<std::string_view> find_string(std::string_view k) const {
        return find_scalar<std::string_view>(k);
    }
    uint32_t get_u32(std::string_view k) const { return get_scalar<uint32_t>(k); }
    int32_t get_i32(std::string_view k) const { return get_scalar<int32_t>(k); }
    uint64_t get_u64(std::string_view k) const { return get_scalar<uint64_t>(k); }
    float get_f32(std::string_view k) const { return get_scalar<float>(k); }
    bool get_bool(std::string_view k) const { return get_scalar<bool>(k); }
    std::string_view get_string(std::string_view k) const {
        return get_scalar<std::string_view>(k);
    }
    std::vector<uint32_t> get_u32_array(std::string_view k) const { return get_array<uint32_t>(k); }
    std::vector<int32_t> get_i32_array(std::string_view k) const { return get_array<int32_t>(k); }
    std::vector<float> get_f32_array(std::string_view k) const { return get_array<float>(k); }
    std::vector<bool> get_bool_array(std::string_view k) const { return get_array<bool>(k); }
    std::vector<std::string_view> get_string_array(std::string_view k) const {
        return get_array<std::string_view>(k);
    }
    std::vector<uint32_t> get_u32_per_layer(std::string_view k, size_t n_layers) const {
        return get_per_layer<uint32_t>(k, n_layers);
    }
    std::vector<bool> get_bool_per_layer(std::string_view k, size_t n_layers) const {
        return get_per_layer<bool>(k, n_layers);
    }

    // ---- tensors ---------------------------------------------------------------------------
    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // file order
    const TensorInfo* find_tensor(std::string_view name) const;
    // The tensor's bytes; bounds were checked during parse.
    std::span<const std::byte> data(const TensorInfo& t) const;

  private:
    GgufFile() = default;

    std::optional<MappedFile> mapped_;
    std::span<const std::byte> bytes_;
    std::string name_;
    uint32_t version_ = 0;
    uint32_t alignment_ = k_default_alignment;
    uint64_t data_offset_ = 0;
    std::vector<GgufKv> kvs_;
    std::unordered_map<std::string_view, size_t> kv_index_;  // keys view the file bytes
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string_view, size_t> tensor_index_;  // names view the file bytes

    friend class GgufParser;
};

}  // namespace vkllm
