// Typed metadata access for GgufFile: conversions between GGUF value types and C++ types, with
// errors that name the key and the expected versus found type.
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "loader/gguf_file.h"
#include "loader/model_file_error.h"

namespace vkllm {
namespace {

// One decoded fixed-size element, widened within its family.
struct Number {
    enum class Kind { Unsigned, Signed, Float, Bool } kind;
    uint64_t u = 0;
    int64_t s = 0;
    double f = 0.0;
};

template <typename T>
T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

Number decode_number(GgufValueType type, const std::byte* p) {
    using K = Number::Kind;
    switch (type) {
        case GgufValueType::U8:
            return {K::Unsigned, load<uint8_t>(p)};
        case GgufValueType::U16:
            return {K::Unsigned, load<uint16_t>(p)};
        case GgufValueType::U32:
            return {K::Unsigned, load<uint32_t>(p)};
        case GgufValueType::U64:
            return {K::Unsigned, load<uint64_t>(p)};
        case GgufValueType::I8:
            return {K::Signed, 0, load<int8_t>(p)};
        case GgufValueType::I16:
            return {K::Signed, 0, load<int16_t>(p)};
        case GgufValueType::I32:
            return {K::Signed, 0, load<int32_t>(p)};
        case GgufValueType::I64:
            return {K::Signed, 0, load<int64_t>(p)};
        case GgufValueType::F32:
            return {K::Float, 0, 0, static_cast<double>(load<float>(p))};
        case GgufValueType::F64:
            return {K::Float, 0, 0, load<double>(p)};
        case GgufValueType::BOOL:
            return {K::Bool, load<uint8_t>(p) != 0 ? 1u : 0u};
        case GgufValueType::STRING:
        case GgufValueType::ARRAY:
            break;
    }
    return {K::Bool};  // unreachable: callers pass fixed-size types only
}

template <typename T>
std::string label() {
    if constexpr (std::is_same_v<T, bool>)
        return "bool";
    else if constexpr (std::is_same_v<T, std::string_view>)
        return "string";
    else if constexpr (std::is_same_v<T, float>)
        return "f32";
    else if constexpr (std::is_same_v<T, double>)
        return "f64";
    else
        return (std::is_signed_v<T> ? "i" : "u") + std::to_string(sizeof(T) * 8);
}

std::string number_text(const Number& n) {
    switch (n.kind) {
        case Number::Kind::Unsigned:
        case Number::Kind::Bool:
            return std::to_string(n.u);
        case Number::Kind::Signed:
            return std::to_string(n.s);
        case Number::Kind::Float:
            return std::to_string(n.f);
    }
    return {};
}

// Converts element `i` of `v` (a scalar when v is not an array) to T, following the acceptance
// rules documented on GgufFile::find_scalar. Throws with the key and expected vs found type.
class Converter {
  public:
    Converter(const std::string& file, std::string_view key) : file_(file), key_(key) {}

    [[noreturn]] void fail(const std::string& detail) const {
        throw ModelFileError(file_, "key '" + std::string(key_) + "': " + detail);
    }

    template <typename T>
    T element(const GgufValue& v, size_t i) const {
        const GgufValueType type = v.is_array() ? v.elem_type : v.type;
        if constexpr (std::is_same_v<T, std::string_view>) {
            if (type != GgufValueType::STRING)
                fail("expected string, found " + gguf_type_name(type));
            return v.is_array() ? v.strings[i] : v.str;
        } else {
            if (gguf_scalar_size(type) == 0) {
                fail("expected " + label<T>() + ", found " + gguf_type_name(type));
            }
            return convert<T>(decode_number(type, v.raw.data() + i * gguf_scalar_size(type)), type);
        }
    }

  private:
    template <typename T>
    T convert(const Number& n, GgufValueType type) const {
        using K = Number::Kind;
        if constexpr (std::is_same_v<T, bool>) {
            if (n.kind == K::Float) fail("expected bool, found " + gguf_type_name(type));
            return n.kind == K::Signed ? n.s != 0 : n.u != 0;
        } else if constexpr (std::is_floating_point_v<T>) {
            if (n.kind == K::Bool) fail("expected " + label<T>() + ", found bool");
            if (n.kind == K::Float) return static_cast<T>(n.f);
            return n.kind == K::Signed ? static_cast<T>(n.s) : static_cast<T>(n.u);
        } else {
            if (n.kind == K::Float || n.kind == K::Bool) {
                fail("expected " + label<T>() + ", found " + gguf_type_name(type));
            }
            const bool fits = n.kind == K::Signed ? std::in_range<T>(n.s) : std::in_range<T>(n.u);
            if (!fits) {
                fail("value " + number_text(n) + " (" + gguf_type_name(type) +
                     ") does not fit in " + label<T>() +
                     ": the value is corrupt or the model is unsupported");
            }
            return n.kind == K::Signed ? static_cast<T>(n.s) : static_cast<T>(n.u);
        }
    }

    const std::string& file_;
    std::string_view key_;
};

}  // namespace

template <typename T>
std::optional<T> GgufFile::find_scalar(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    const Converter c(name_, key);
    if (v->is_array()) c.fail("expected " + label<T>() + ", found " + v->type_description());
    return c.element<T>(*v, 0);
}

template <typename T>
T GgufFile::get_scalar(std::string_view key) const {
    std::optional<T> v = find_scalar<T>(key);
    if (!v) Converter(name_, key).fail("required " + label<T>() + " key is missing");
    return *v;
}

template <typename T>
std::optional<std::vector<T>> GgufFile::find_array(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    const Converter c(name_, key);
    if (!v->is_array())
        c.fail("expected array of " + label<T>() + ", found " + v->type_description());
    std::vector<T> out;
    out.reserve(static_cast<size_t>(v->count));
    for (size_t i = 0; i < v->count; ++i) out.push_back(c.element<T>(*v, i));
    return out;
}

template <typename T>
std::vector<T> GgufFile::get_array(std::string_view key) const {
    std::optional<std::vector<T>> v = find_array<T>(key);
    if (!v) Converter(name_, key).fail("required array of " + label<T>() + " key is missing");
    return std::move(*v);
}

template <typename T>
std::optional<std::vector<T>> GgufFile::find_per_layer(std::string_view key,
                                                       size_t n_layers) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_array()) return std::vector<T>(n_layers, *find_scalar<T>(key));
    if (v->count != n_layers) {
        Converter(name_, key)
            .fail("per-layer array has " + std::to_string(v->count) +
                  " entries but the model has " + std::to_string(n_layers) +
                  " layers: the metadata is inconsistent");
    }
    return find_array<T>(key);
}

template <typename T>
std::vector<T> GgufFile::get_per_layer(std::string_view key, size_t n_layers) const {
    std::optional<std::vector<T>> v = find_per_layer<T>(key, n_layers);
    if (!v) Converter(name_, key).fail("required per-layer " + label<T>() + " key is missing");
    return std::move(*v);
}

#define VKLLM_GGUF_INSTANTIATE(T)                                                                \
    template std::optional<T> GgufFile::find_scalar<T>(std::string_view) const;                  \
    template T GgufFile::get_scalar<T>(std::string_view) const;                                  \
    template std::optional<std::vector<T>> GgufFile::find_array<T>(std::string_view) const;      \
    template std::vector<T> GgufFile::get_array<T>(std::string_view) const;                      \
    template std::optional<std::vector<T>> GgufFile::find_per_layer<T>(std::string_view, size_t) \
        const;                                                                                   \
    template std::vector<T> GgufFile::get_per_layer<T>(std::string_view, size_t) const;

VKLLM_GGUF_INSTANTIATE(uint8_t)
VKLLM_GGUF_INSTANTIATE(int8_t)
VKLLM_GGUF_INSTANTIATE(uint16_t)
VKLLM_GGUF_INSTANTIATE(int16_t)
VKLLM_GGUF_INSTANTIATE(uint32_t)
VKLLM_GGUF_INSTANTIATE(int32_t)
VKLLM_GGUF_INSTANTIATE(uint64_t)
VKLLM_GGUF_INSTANTIATE(int64_t)
VKLLM_GGUF_INSTANTIATE(float)
VKLLM_GGUF_INSTANTIATE(double)
VKLLM_GGUF_INSTANTIATE(bool)
VKLLM_GGUF_INSTANTIATE(std::string_view)
#undef VKLLM_GGUF_INSTANTIATE

}  // namespace vkllm
