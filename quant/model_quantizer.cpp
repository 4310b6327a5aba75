#include "quant/model_quantizer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/quant_blocks.h"
#include "quant/quantize.h"
#include "quant/row_parallel.h"
#include "quant/tensor_order.h"

namespace vkllm::quant {
namespace {

constexpr uint64_t k_batch_values_per_thread = 1u << 20;  // ~4 MiB of f32 per thread and batch
// Below this many values a batch runs on the calling thread (norms, small matrices).
constexpr uint64_t k_min_parallel_values = 1u << 16;

std::string type_name(GgmlType t) {
    return std::string(traits_of(t).name);
}

bool is_float_type(GgmlType t) {
    return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}

// ggml_n_dims: the stored dimension count without trailing 1s (at least 1), which is what
// llama.cpp writes and what its "2-D or more" quantization test sees.
uint32_t ggml_dims(const TensorInfo& t) {
    for (uint32_t d = GgufFile::k_max_dims; d > 1; --d) {
        if (t.ne[d - 1] > 1) return d;
    }
    return 1;
}

void check_source(const GgufFile& src) {
    const std::optional<std::string_view> arch = src.find_string("general.architecture");
    if (arch != "gemma4") {
        throw std::invalid_argument(
            src.name() + ": general.architecture is '" + std::string(arch.value_or("(missing)")) +
            "', not 'gemma4': vkllm quantize knows only Gemma 4's per-tensor type rules");
    }
    if (src.find_u32("split.count").value_or(1) > 1) {
        throw std::invalid_argument(src.name() +
                                    ": is one part of a split model; merge the parts first "
                                    "(llama-gguf-split --merge)");
    }
    for (const TensorInfo& t : src.tensors()) {
        if (!is_float_type(t.type)) {
            throw std::invalid_argument(
                src.name() + ": tensor '" + t.name + "' is already " + type_name(t.type) +
                "; vkllm quantize needs a source with f32/f16/bf16 weights (the converter's "
                "output), since re-quantizing would compound the rounding errors");
        }
    }
}

uint64_t n_rows(const TensorInfo& t) {
    return t.ne[0] == 0 ? 0 : t.n_elements() / t.ne[0];
}

// Source tensors in llama.cpp's output order.
std::vector<const TensorInfo*> output_order(const GgufFile& src) {
    std::vector<const TensorInfo*> order;
    for (const TensorInfo& t : src.tensors()) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return tensor_order_less(a->name, b->name);
    });
    return order;
}

std::vector<GgmlType> output_types(const GgufFile& src, QuantMix mix,
                                   const std::vector<const TensorInfo*>& order) {
    const TypeRuleModel model{src.get_u32("gemma4.block_count"),
                              src.find_u32("gemma4.expert_count").value_or(0)};
    std::vector<TypeRuleTensor> rule_tensors;
    for (const TensorInfo* t : order) {
        rule_tensors.push_back({t->name, t->ne[0], ggml_dims(*t), t->type});
    }
    return choose_types(mix, model, rule_tensors);
}

// Rows [first, last) of `t` converted to `type`, into dst (row_bytes each).
void convert_rows(const GgufFile& src, const TensorInfo& t, GgmlType type, uint64_t first,
                  uint64_t last, std::byte* dst) {
    const std::span<const std::byte> data = src.data(t);
    const size_t src_rb = row_bytes(t.type, t.ne[0]);
    const size_t dst_rb = row_bytes(type, t.ne[0]);
    std::vector<float> row(t.ne[0]);
    for (uint64_t r = first; r < last; ++r) {
        dequantize_row(t.type, data.subspan(r * src_rb, src_rb), row);
        const std::vector<std::byte> q = quantize_row(type, row);
        std::memcpy(dst + (r - first) * dst_rb, q.data(), dst_rb);
    }
}

void write_tensor(const GgufFile& src, const TensorInfo& t, GgmlType type, unsigned n_threads,
                  TensorSink& sink, const std::ostream& out) {
    if (type == t.type) {
        sink.write(src.data(t));
    } else {
        const uint64_t rows = n_rows(t);
        const size_t rb = row_bytes(type, t.ne[0]);
        const uint64_t batch_rows = std::max<uint64_t>(
            1, k_batch_values_per_thread * n_threads / std::max<uint64_t>(1, t.ne[0]));
        std::vector<std::byte> buf;
        for (uint64_t first = 0; first < rows; first += batch_rows) {
            const uint64_t last = std::min(rows, first + batch_rows);
            buf.resize((last - first) * rb);
            if (n_threads > 1 && (last - first) * t.ne[0] >= k_min_parallel_values) {
                for_row_parts(first, last, n_threads, [&](uint64_t a, uint64_t b) {
                    convert_rows(src, t, type, a, b, buf.data() + (a - first) * rb);
                });
            } else {
                convert_rows(src, t, type, first, last, buf.data());
            }
            sink.write(buf);
        }
    }
    if (!out) {
        throw std::runtime_error("writing tensor '" + t.name +
                                 "' failed (disk full or the output was removed?)");
    }
}

bool is_replaced_key(std::string_view key) {
    return key == "general.quantization_version" || key == "general.file_type" ||
           key.starts_with("split.");
}

// Everything but the tensor bytes goes into the writer now; the bytes are produced at write().
void write_model(const GgufFile& src, const QuantizeSpec& spec, unsigned n_threads,
                 std::ofstream& out, const QuantizeProgress& progress, QuantizeSummary& summary) {
    GgufWriter w(src.alignment());
    for (const GgufKv& kv : src.metadata()) {
        if (!is_replaced_key(kv.key)) w.add_value(kv.key, kv.value);
    }
    w.add_u32("general.quantization_version", 2);
    w.add_u32("general.file_type", file_type_of(spec.mix));

    const std::vector<const TensorInfo*> order = output_order(src);
    const std::vector<GgmlType> types = output_types(src, spec.mix, order);
    for (size_t i = 0; i < order.size(); ++i) {
        const TensorInfo& t = *order[i];
        const GgmlType type = types[i];
        const std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + ggml_dims(t));
        w.add_tensor(t.name, type, ne, [&, i, type](TensorSink& sink) {
            if (progress) progress(t.name, t.type, type, i, order.size());
            write_tensor(src, t, type, n_threads, sink, out);
        });
        TypeTotals& tot = summary.by_type[type];
        tot.tensors++;
        tot.bytes += row_bytes(type, t.ne[0]) * n_rows(t);
        if (type != t.type) summary.n_converted++;
    }
    summary.n_tensors = order.size();
    w.write(out);
}

void check_paths(const std::filesystem::path& src, const std::filesystem::path& dst) {
    std::error_code ec;
    if (std::filesystem::equivalent(src, dst, ec)) {
        throw std::invalid_argument("the output " + dst.string() +
                                    " is the source file; writing would destroy it");
    }
}

}  // namespace

QuantizeSummary quantize_gemma4_file(const std::filesystem::path& src_path,
                                     const std::filesystem::path& dst, const QuantizeSpec& spec,
                                     const QuantizeProgress& progress) {
    const auto start = std::chrono::steady_clock::now();
    if (!is_quantized_mix(spec.mix)) {
        throw std::invalid_argument("mix '" + std::string(quant_mix_name(spec.mix)) +
                                    "' is not a quantization; use q8_0, q4_0, q4_k_m or q5_k_m");
    }
    const unsigned n_threads = thread_count(spec.n_threads);
    check_paths(src_path, dst);
    const GgufFile src = GgufFile::open(src_path);
    check_source(src);

    const std::filesystem::path tmp = dst.string() + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw std::runtime_error("cannot write " + dst.string() + ": creating " + tmp.string() +
                                 " failed: " + std::strerror(errno));
    }
    QuantizeSummary s;
    try {
        write_model(src, spec, n_threads, out, progress, s);
        out.close();
        if (!out) throw std::runtime_error("writing " + tmp.string() + " failed (disk full?)");
        std::error_code ec;
        std::filesystem::rename(tmp, dst, ec);
        if (ec) {
            throw std::runtime_error("cannot write " + dst.string() + ": renaming " + tmp.string() +
                                     " failed: " + ec.message());
        }
    } catch (...) {
        out.close();
        std::error_code ec;
        std::filesystem::remove(tmp, ec);  // never leave a partial model behind
        throw;
    }
    s.source_bytes = src.file_size();
    s.file_bytes = std::filesystem::file_size(dst);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

}  // namespace vkllm::quant
