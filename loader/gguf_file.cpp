// GGUF parsing and validation (formats.md §1.3–1.6, checklist §1.10). Typed metadata access is in
// gguf_metadata.cpp.
#include "loader/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "loader/gguf_reader.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

constexpr uint32_t k_max_value_type = 12;
constexpr uint64_t k_max_signed = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Smallest possible encodings, used to reject counts that cannot fit in the bytes left before
// anything is allocated: key length (8) + 1-byte key + type (4) + 1-byte value; and name length
// (8) + 1-byte name + n_dims (4) + type (4) + offset (8) with zero dims.
constexpr uint64_t k_min_kv_bytes = 14;
constexpr uint64_t k_min_tensor_info_bytes = 25;
// An array element: a fixed-size value, a string (u64 length), or a nested array (type + count).
constexpr uint64_t k_min_string_bytes = 8;
constexpr uint64_t k_min_nested_array_bytes = 12;

bool is_removed_type_id(uint32_t id) {
    return id == 4 || id == 5 || (id >= 31 && id <= 38);
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
    return !__builtin_mul_overflow(a, b, &out);
}
bool checked_add(uint64_t a, uint64_t b, uint64_t& out) {
    return !__builtin_add_overflow(a, b, &out);
}

uint64_t pad_to(uint64_t pos, uint64_t align) {
    return (pos + align - 1) / align * align;
}

std::string in_quotes(std::string_view s) {
    return "'" + std::string(s) + "'";
}

std::string hex_bytes(std::span<const std::byte> b) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    for (std::byte x : b) {
        const auto v = std::to_integer<unsigned>(x);
        if (!out.empty()) out += ' ';
        out += k_digits[v >> 4];
        out += k_digits[v & 15];
    }
    return out;
}

}  // namespace

std::string gguf_type_name(GgufValueType type) {
    static constexpr std::array<const char*, 13> k_names = {"u8",  "i8",  "u16",  "i16",    "u32",
                                                            "i32", "f32", "bool", "string", "array",
                                                            "u64", "i64", "f64"};
    const auto id = static_cast<uint32_t>(type);
    if (id < k_names.size()) return k_names[id];
    return "type " + std::to_string(id);
}

size_t gguf_scalar_size(GgufValueType type) {
    switch (type) {
        case GgufValueType::U8:
        case GgufValueType::I8:
        case GgufValueType::BOOL:
            return 1;
        case GgufValueType::U16:
        case GgufValueType::I16:
            return 2;
        case GgufValueType::U32:
        case GgufValueType::I32:
        case GgufValueType::F32:
            return 4;
        case GgufValueType::U64:
        case GgufValueType::I64:
        case GgufValueType::F64:
            return 8;
        case GgufValueType::STRING:
        case GgufValueType::ARRAY:
            return 0;
    }
    return 0;
}

std::string GgufValue::type_description() const {
    if (!is_array()) return gguf_type_name(type);
    if (elem_type == GgufValueType::ARRAY && !items.empty()) {
        return "array of " + items.front().type_description();
    }
    return "array of " + gguf_type_name(elem_type);
}

// Walks the file once, front to back, validating as it goes (see the invariant in gguf_file.h).
class GgufParser {
  public:
    GgufParser(GgufFile& out, GgufReader& r) : out_(out), r_(r) {}

    void run() {
        parse_header();
        parse_metadata();
        parse_alignment();
        parse_tensor_infos();
        check_data_section();
    }

  private:
    void parse_header() {
        const std::span<const std::byte> magic = r_.read_bytes(4, "the GGUF magic");
        if (std::memcmp(magic.data(), "GGUF", 4) != 0) {
            r_.fail_at(0, "bad magic: expected \"GGUF\" (47 47 55 46), found " + hex_bytes(magic) +
                              ": this is not a GGUF model file (wrong file, a pre-GGUF ggml file, "
                              "or an error page saved by a failed download?)");
        }
        const uint32_t v = r_.read_u32("the GGUF version");
        if (v != 0 && (v & 0xFFFFu) == 0) {
            r_.fail_at(4, "GGUF version field reads " + std::to_string(v) +
                              ": the file is big-endian, only little-endian GGUF is supported");
        }
        if (v == 1) {
            r_.fail_at(4,
                       "GGUF version 1 is not supported (it used 32-bit counts): re-convert "
                       "the model with a current llama.cpp");
        }
        if (v != 2 && v != 3) {
            r_.fail_at(4, "unsupported GGUF version " + std::to_string(v) +
                              " (expected 2 or 3): the file is corrupt or from a newer writer");
        }
        out_.version_ = v;
        n_tensors_ = read_count("tensor count", k_min_tensor_info_bytes);
        n_kv_ = read_count("metadata count", k_min_kv_bytes);
        if (n_tensors_ > (r_.remaining() - n_kv_ * k_min_kv_bytes) / k_min_tensor_info_bytes) {
            r_.fail_at(8, "tensor count " + std::to_string(n_tensors_) + " and metadata count " +
                              std::to_string(n_kv_) + " cannot both fit in the " +
                              std::to_string(r_.remaining()) +
                              " bytes after the header: the file is truncated or a count is "
                              "corrupt");
        }
    }

    // Reads an i64-as-u64 count and rejects it unless `min_bytes` per record fits in what is left.
    uint64_t read_count(std::string_view what, uint64_t min_bytes) {
        const size_t at = r_.offset();
        const uint64_t n = r_.read_u64(what);
        if (n > k_max_signed) {
            r_.fail_at(at, std::string(what) + " " + std::to_string(n) +
                               " is negative as a signed 64-bit value: the file is corrupt");
        }
        const uint64_t left = r_.size() - at - 8;  // conservative: counts from after this field
        if (n > left / min_bytes) {
            r_.fail_at(at, std::string(what) + " " + std::to_string(n) +
                               " is implausible: each record needs at least " +
                               std::to_string(min_bytes) + " bytes but only " +
                               std::to_string(left) +
                               " bytes follow: the file is truncated or the count is corrupt");
        }
        return n;
    }

    void parse_metadata() {
        out_.kvs_.reserve(static_cast<size_t>(n_kv_));
        for (uint64_t i = 0; i < n_kv_; ++i) {
            const size_t at = r_.offset();
            const std::string_view key =
                r_.read_string("the key of metadata record " + std::to_string(i));
            if (key.empty())
                r_.fail_at(at, "metadata record " + std::to_string(i) +
                                   " has an empty key: the file is corrupt");
            const GgufValueType type = read_value_type(key, "value type");
            GgufValue value = parse_value(type, key, 0);
            if (!out_.kv_index_.emplace(key, out_.kvs_.size()).second) {
                r_.fail_at(at, "duplicate metadata key " + in_quotes(key) +
                                   ": the file was written by a buggy tool");
            }
            out_.kvs_.push_back(GgufKv{key, std::move(value)});
        }
    }

    GgufValueType read_value_type(std::string_view key, std::string_view what) {
        const size_t at = r_.offset();
        const uint32_t id = r_.read_u32(std::string(what) + " of key " + in_quotes(key));
        if (id > k_max_value_type) {
            r_.fail_at(at, "key " + in_quotes(key) + " has unknown " + std::string(what) + " " +
                               std::to_string(id) +
                               " (valid: 0..12): the file is corrupt or from a newer writer");
        }
        return static_cast<GgufValueType>(id);
    }

    GgufValue parse_value(GgufValueType type, std::string_view key, int depth) {
        GgufValue v;
        v.type = type;
        if (type == GgufValueType::STRING) {
            v.str = r_.read_string("the value of key " + in_quotes(key));
        } else if (type == GgufValueType::ARRAY) {
            parse_array(v, key, depth);
        } else {
            v.raw = r_.read_bytes(gguf_scalar_size(type), "the value of key " + in_quotes(key));
        }
        return v;
    }

    void parse_array(GgufValue& v, std::string_view key, int depth) {
        const size_t at = r_.offset();
        v.elem_type = read_value_type(key, "array element type");
        if (v.elem_type == GgufValueType::ARRAY && depth + 1 >= GgufFile::k_max_array_depth) {
            r_.fail_at(at, "key " + in_quotes(key) + " nests arrays deeper than " +
                               std::to_string(GgufFile::k_max_array_depth) +
                               " levels: the file is corrupt");
        }
        v.count = r_.read_u64("the array count of key " + in_quotes(key));
        const size_t elem_size = gguf_scalar_size(v.elem_type);
        const uint64_t min_elem = elem_size != 0                         ? elem_size
                                  : v.elem_type == GgufValueType::STRING ? k_min_string_bytes
                                                                         : k_min_nested_array_bytes;
        if (v.count > GgufReader::k_max_length || v.count > r_.remaining() / min_elem) {
            r_.fail_at(at,
                       "key " + in_quotes(key) + " has array count " + std::to_string(v.count) +
                           " of " + gguf_type_name(v.elem_type) + ", needing at least " +
                           describe_bytes(v.count > GgufReader::k_max_length ? v.count
                                                                             : v.count * min_elem) +
                           ", but only " + std::to_string(r_.remaining()) +
                           " bytes are left: the file is truncated or the count is corrupt");
        }
        const auto n = static_cast<size_t>(v.count);
        if (elem_size != 0) {
            v.raw = r_.read_bytes(v.count * elem_size, "the array data of key " + in_quotes(key));
        } else if (v.elem_type == GgufValueType::STRING) {
            const std::string what = "a string element of key " + in_quotes(key);
            v.strings.reserve(n);
            for (size_t i = 0; i < n; ++i) v.strings.push_back(r_.read_string(what));
        } else {
            v.items.reserve(n);
            for (size_t i = 0; i < n; ++i) {
                GgufValue item;
                item.type = GgufValueType::ARRAY;
                parse_array(item, key, depth + 1);
                v.items.push_back(std::move(item));
            }
        }
    }

    void parse_alignment() {
        const GgufValue* v = out_.find("general.alignment");
        if (v == nullptr) return;
        if (v->type != GgufValueType::U32) {
            fail_plain("general.alignment has type " + v->type_description() +
                       ", expected u32: the file was written by a non-conforming tool");
        }
        uint32_t align = 0;
        std::memcpy(&align, v->raw.data(), sizeof(align));
        if (align == 0 || (align & (align - 1)) != 0) {
            fail_plain("general.alignment is " + std::to_string(align) +
                       ": it must be a non-zero power of two; the file is corrupt");
        }
        out_.alignment_ = align;
    }

    void parse_tensor_infos() {
        out_.tensors_.reserve(static_cast<size_t>(n_tensors_));
        for (uint64_t i = 0; i < n_tensors_; ++i) parse_tensor_info(i);
    }

    void parse_tensor_info(uint64_t index) {
        const size_t at = r_.offset();
        const std::string_view name = r_.read_string("the name of tensor " + std::to_string(index));
        const std::string tname = "tensor " + in_quotes(name);
        if (name.empty())
            r_.fail_at(
                at, "tensor " + std::to_string(index) + " has an empty name: the file is corrupt");
        if (name.size() > GgufFile::k_max_tensor_name) {
            r_.fail_at(at, tname + " has a " + std::to_string(name.size()) +
                               "-byte name, above the " +
                               std::to_string(GgufFile::k_max_tensor_name) +
                               "-byte limit: the file is corrupt");
        }
        TensorInfo t;
        t.name = std::string(name);
        t.n_dims = r_.read_u32("the n_dims of " + tname);
        if (t.n_dims > GgufFile::k_max_dims) {
            r_.fail_at(at, tname + " has n_dims " + std::to_string(t.n_dims) +
                               " (at most 4 allowed): the file is corrupt");
        }
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            t.ne[d] = r_.read_u64("the shape of " + tname);
            if (t.ne[d] > k_max_signed) {
                r_.fail_at(at, tname + " has negative dimension ne[" + std::to_string(d) +
                                   "]: the file is corrupt");
            }
        }
        const uint32_t type_id = r_.read_u32("the type of " + tname);
        t.offset = r_.read_u64("the data offset of " + tname);
        check_tensor_type_and_size(t, type_id, at);
        if (t.offset % out_.alignment_ != 0) {
            r_.fail_at(at, tname + " has data offset " + std::to_string(t.offset) +
                               ", not a multiple of the alignment " +
                               std::to_string(out_.alignment_) +
                               ": the file is corrupt (or general.alignment is wrong)");
        }
        if (!out_.tensor_index_.emplace(name, out_.tensors_.size()).second) {
            r_.fail_at(at, "duplicate tensor name " + in_quotes(name) +
                               ": the file was written by a buggy tool");
        }
        out_.tensors_.push_back(std::move(t));
    }

    void check_tensor_type_and_size(TensorInfo& t, uint32_t type_id, size_t at) {
        const std::string tname = "tensor " + in_quotes(t.name);
        const std::optional<GgmlTypeTraits> traits = ggml_type_traits(type_id);
        if (!traits) {
            r_.fail_at(at, tname + " has " +
                               (is_removed_type_id(type_id)
                                    ? "type id " + std::to_string(type_id) +
                                          ", a type removed from ggml: re-quantize the model with "
                                          "a current llama.cpp"
                                    : "unknown type id " + std::to_string(type_id) +
                                          ": the file is corrupt or needs a newer runtime"));
        }
        t.type = static_cast<GgmlType>(type_id);
        uint64_t elems = 1;
        for (uint64_t n : t.ne) {
            if (!checked_mul(elems, n, elems) || elems > k_max_signed) {
                r_.fail_at(at, tname + " element count overflows 64 bits: the shape is corrupt");
            }
        }
        if (t.ne[0] % traits->block_elems != 0) {
            r_.fail_at(at, tname + " (" + std::string(traits->name) + ") has ne[0] = " +
                               std::to_string(t.ne[0]) + ", not a multiple of the block size " +
                               std::to_string(traits->block_elems) + ": the file is corrupt");
        }
        uint64_t bytes = t.ne[0] / traits->block_elems;
        if (!checked_mul(bytes, traits->block_bytes, bytes) ||
            !checked_mul(bytes, t.ne[1], bytes) || !checked_mul(bytes, t.ne[2], bytes) ||
            !checked_mul(bytes, t.ne[3], bytes)) {
            r_.fail_at(at, tname + " byte size overflows 64 bits: the shape is corrupt");
        }
        t.size_bytes = bytes;
    }

    void check_data_section() {
        const uint64_t pos = r_.offset();
        const uint64_t start = n_tensors_ > 0 ? pad_to(pos, out_.alignment_) : pos;
        r_.seek(start, "the start of the tensor data section");
        out_.data_offset_ = start;
        const uint64_t avail = r_.size() - start;
        for (const TensorInfo& t : out_.tensors_) {
            if (t.offset <= avail && t.size_bytes <= avail - t.offset) continue;
            uint64_t end = 0;
            const bool fits =
                checked_add(start, t.offset, end) && checked_add(end, t.size_bytes, end);
            fail_plain(
                "tensor " + in_quotes(t.name) + " ends at byte " +
                (fits ? describe_position(end) : std::string("beyond 2^64")) + " but the file is " +
                describe_bytes(r_.size()) +
                ": the file is truncated (incomplete download?) or the tensor offset is corrupt");
        }
        check_overlap();
    }

    // Sorting by offset and tracking the furthest end seen finds every overlap, not only between
    // neighbours in file order.
    void check_overlap() {
        const std::vector<TensorInfo>& ts = out_.tensors_;
        std::vector<size_t> order(ts.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return ts[a].offset < ts[b].offset; });
        const TensorInfo* furthest = nullptr;
        for (size_t idx : order) {
            const TensorInfo& t = ts[idx];
            if (t.size_bytes == 0) continue;
            if (furthest != nullptr && t.offset < furthest->offset + furthest->size_bytes) {
                fail_plain("tensors " + in_quotes(furthest->name) + " (data bytes " +
                           std::to_string(furthest->offset) + ".." +
                           std::to_string(furthest->offset + furthest->size_bytes) + ") and " +
                           in_quotes(t.name) + " (starting at " + std::to_string(t.offset) +
                           ") overlap: the file is corrupt or was written by a buggy tool");
            }
            if (furthest == nullptr ||
                t.offset + t.size_bytes > furthest->offset + furthest->size_bytes) {
                furthest = &t;
            }
        }
    }

    [[noreturn]] void fail_plain(const std::string& detail) const {
        throw ModelFileError(r_.name(), detail);
    }

    GgufFile& out_;
    GgufReader& r_;
    uint64_t n_tensors_ = 0;
    uint64_t n_kv_ = 0;
};

GgufFile GgufFile::open(const std::filesystem::path& path) {
    MappedFile mapped(path);
    GgufFile f = parse(mapped.bytes(), mapped.path());
    f.mapped_.emplace(std::move(mapped));  // the mapping address is unchanged by the move
    return f;
}

GgufFile GgufFile::parse(std::span<const std::byte> bytes, std::string name) {
    GgufFile f;
    f.bytes_ = bytes;
    f.name_ = name;
    GgufReader reader(bytes, std::move(name));
    GgufParser(f, reader).run();
    return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
    const auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> GgufFile::data(const TensorInfo& t) const {
    return bytes_.subspan(static_cast<size_t>(data_offset_ + t.offset),
                          static_cast<size_t>(t.size_bytes));
}

}  // namespace vkllm
