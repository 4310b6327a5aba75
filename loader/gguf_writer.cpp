#include "loader/gguf_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace vkllm {
namespace {

template <typename T>
void put(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    out.append(s);
}

void put_type(std::string& out, GgufValueType t) {
    put<uint32_t>(out, static_cast<uint32_t>(t));
}

uint64_t pad_to(uint64_t pos, uint64_t align) {
    return (pos + align - 1) / align * align;
}

void write_zeros(std::ostream& out, uint64_t n) {
    static constexpr char k_zeros[256] = {};
    while (n > 0) {
        const uint64_t chunk = n < sizeof(k_zeros) ? n : sizeof(k_zeros);
        out.write(k_zeros, static_cast<std::streamsize>(chunk));
        n -= chunk;
    }
}

}  // namespace

// ---- GgufWriteArray ----------------------------------------------------------------------------

GgufWriteArray GgufWriteArray::of_bools(const std::vector<bool>& values) {
    GgufWriteArray a(GgufValueType::BOOL, values.size());
    for (bool v : values) put<uint8_t>(a.bytes_, v ? 1 : 0);
    return a;
}

GgufWriteArray GgufWriteArray::of_strings(std::span<const std::string_view> values) {
    GgufWriteArray a(GgufValueType::STRING, values.size());
    for (std::string_view v : values) put_string(a.bytes_, v);
    return a;
}

GgufWriteArray GgufWriteArray::of_strings(std::span<const std::string> values) {
    GgufWriteArray a(GgufValueType::STRING, values.size());
    for (const std::string& v : values) put_string(a.bytes_, v);
    return a;
}

GgufWriteArray GgufWriteArray::of_arrays(std::span<const GgufWriteArray> values) {
    GgufWriteArray a(GgufValueType::ARRAY, values.size());
    for (const GgufWriteArray& v : values) v.encode_to(a.bytes_);
    return a;
}

GgufWriteArray GgufWriteArray::of_value(const GgufValue& value) {
    if (!value.is_array()) {
        throw std::invalid_argument("GgufWriteArray: a " + value.type_description() +
                                    " value is not an array");
    }
    switch (value.elem_type) {
        case GgufValueType::STRING:
            return of_strings(std::span(value.strings));
        case GgufValueType::ARRAY: {
            std::vector<GgufWriteArray> items;
            items.reserve(value.items.size());
            for (const GgufValue& v : value.items) items.push_back(of_value(v));
            return of_arrays(items);
        }
        default: {
            GgufWriteArray a(value.elem_type, value.count);
            a.append_raw(value.raw);
            return a;
        }
    }
}

void GgufWriteArray::append_raw(std::span<const std::byte> b) {
    bytes_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

void GgufWriteArray::encode_to(std::string& out) const {
    put_type(out, elem_type_);
    put<uint64_t>(out, count_);
    out += bytes_;
}

// ---- TensorSink --------------------------------------------------------------------------------

void TensorSink::write(std::span<const std::byte> bytes) {
    out_.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    written_ += bytes.size();
}

// ---- GgufWriter --------------------------------------------------------------------------------

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        throw std::invalid_argument("GgufWriter: alignment " + std::to_string(alignment) +
                                    " is not a non-zero power of two");
    }
}

void GgufWriter::begin_kv(std::string_view key, GgufValueType type) {
    if (key.empty()) throw std::invalid_argument("GgufWriter: empty metadata key");
    if (key == "general.alignment" && type != GgufValueType::U32) {
        throw std::invalid_argument("GgufWriter: general.alignment must be u32");
    }
    if (!keys_.emplace(key).second) {
        throw std::invalid_argument("GgufWriter: duplicate metadata key '" + std::string(key) +
                                    "'");
    }
    put_string(kv_bytes_, key);
    put_type(kv_bytes_, type);
    ++n_kv_;
}

void GgufWriter::add_u32(std::string_view key, uint32_t v) {
    if (key == "general.alignment" && v != alignment_) {
        throw std::invalid_argument(
            "GgufWriter: general.alignment must equal the constructor's "
            "alignment " +
            std::to_string(alignment_));
    }
    add_fixed(key, v);
}

void GgufWriter::add_bool(std::string_view key, bool v) {
    begin_kv(key, GgufValueType::BOOL);
    put<uint8_t>(kv_bytes_, v ? 1 : 0);
}

void GgufWriter::add_value(std::string_view key, const GgufValue& value) {
    if (value.is_array()) return add_array(key, GgufWriteArray::of_value(value));
    if (value.type == GgufValueType::STRING) return add_string(key, value.str);
    if (key == "general.alignment" && value.type == GgufValueType::U32) {
        uint32_t v = 0;
        std::memcpy(&v, value.raw.data(), sizeof v);
        return add_u32(key, v);  // checks it against the writer's alignment
    }
    begin_kv(key, value.type);
    kv_bytes_.append(reinterpret_cast<const char*>(value.raw.data()), value.raw.size());
}

void GgufWriter::add_string(std::string_view key, std::string_view v) {
    begin_kv(key, GgufValueType::STRING);
    put_string(kv_bytes_, v);
}

void GgufWriter::add_array(std::string_view key, const GgufWriteArray& array) {
    begin_kv(key, GgufValueType::ARRAY);
    array.encode_to(kv_bytes_);
}

uint64_t GgufWriter::checked_tensor_size(const std::string& name, GgmlType type,
                                         const std::vector<uint64_t>& ne) const {
    const std::string tag = "GgufWriter: tensor '" + name + "'";
    if (name.empty() || name.size() > GgufFile::k_max_tensor_name) {
        throw std::invalid_argument(tag + ": name must be 1.." +
                                    std::to_string(GgufFile::k_max_tensor_name) + " bytes");
    }
    if (ne.empty() || ne.size() > GgufFile::k_max_dims) {
        throw std::invalid_argument(tag + ": needs 1..4 dimensions");
    }
    const GgmlTypeTraits traits = traits_of(type);
    if (ne[0] % traits.block_elems != 0) {
        throw std::invalid_argument(tag + ": ne[0] is not a multiple of the block size");
    }
    if (tensor_names_.contains(name)) throw std::invalid_argument(tag + ": duplicate name");
    uint64_t size = ne[0] / traits.block_elems * traits.block_bytes;
    for (size_t d = 1; d < ne.size(); ++d) size *= ne[d];
    return size;
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne,
                            std::vector<std::byte> data) {
    const uint64_t size = checked_tensor_size(name, type, ne);
    if (data.size() != size) {
        throw std::invalid_argument("GgufWriter: tensor '" + name + "' has " +
                                    std::to_string(data.size()) +
                                    " data bytes but its shape needs " + std::to_string(size));
    }
    // shared_ptr because std::function must be copyable.
    auto owned = std::make_shared<const std::vector<std::byte>>(std::move(data));
    add_tensor(std::move(name), type, std::move(ne), [owned](TensorSink& s) { s.write(*owned); });
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne,
                            TensorProducer produce) {
    const uint64_t size = checked_tensor_size(name, type, ne);
    tensor_names_.insert(name);
    tensors_.push_back(
        {std::move(name), type, std::move(ne), next_offset_, size, std::move(produce)});
    next_offset_ += pad_to(size, alignment_);
}

void GgufWriter::write(std::ostream& out) const {
    std::string head;
    head.append("GGUF", 4);
    put<uint32_t>(head, 3);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, kv_count());
    if (implicit_alignment_key()) {
        put_string(head, "general.alignment");
        put_type(head, GgufValueType::U32);
        put<uint32_t>(head, alignment_);
    }
    head += kv_bytes_;
    for (const PendingTensor& t : tensors_) {
        put_string(head, t.name);
        put<uint32_t>(head, static_cast<uint32_t>(t.ne.size()));
        for (uint64_t n : t.ne) put<uint64_t>(head, n);
        put<uint32_t>(head, static_cast<uint32_t>(t.type));
        put<uint64_t>(head, t.offset);
    }
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    if (!tensors_.empty()) write_zeros(out, pad_to(head.size(), alignment_) - head.size());
    for (const PendingTensor& t : tensors_) {
        TensorSink sink(out);
        t.produce(sink);
        if (sink.written() != t.size_bytes) {
            throw std::runtime_error("GgufWriter: producer for tensor '" + t.name + "' wrote " +
                                     std::to_string(sink.written()) + " bytes, expected " +
                                     std::to_string(t.size_bytes));
        }
        write_zeros(out, pad_to(t.size_bytes, alignment_) - t.size_bytes);
    }
    if (!out) throw std::runtime_error("GgufWriter: the output stream failed");
}

void GgufWriter::write_file(const std::filesystem::path& path) const {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) {
        throw std::runtime_error("GgufWriter: cannot create '" + path.string() +
                                 "': " + std::strerror(errno));
    }
    write(f);
    f.close();
    if (!f) throw std::runtime_error("GgufWriter: writing '" + path.string() + "' failed");
}

std::vector<std::byte> GgufWriter::to_bytes() const {
    std::ostringstream s(std::ios::binary);
    write(s);
    const std::string str = std::move(s).str();
    const auto* p = reinterpret_cast<const std::byte*>(str.data());
    return {p, p + str.size()};
}

}  // namespace vkllm
