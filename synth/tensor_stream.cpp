#include "synth/tensor_stream.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "quant/quantize.h"
#include "quant/row_parallel.h"
#include "synth/weight_gen.h"

namespace vkllm::synth {
namespace {

constexpr uint64_t k_batch_bytes_per_thread = 8u << 20;
constexpr uint64_t k_max_batch_bytes = 256u << 20;  // bounds memory for very high thread counts
// Below this many output bytes a batch runs on the calling thread: starting threads would cost
// more than the work (vectors, norms, tiny models).
constexpr uint64_t k_min_parallel_bytes = 256u << 10;

// Rows [first, last) of t, quantized into `dst` (row_bytes each).
void encode_rows(const PlannedTensor& t, const RowFill& fill, uint64_t first, uint64_t last,
                 std::byte* dst) {
    std::vector<float> row(t.ne[0]);
    const size_t rb = row_bytes(t.type, t.ne[0]);
    for (uint64_t r = first; r < last; ++r) {
        fill(t.source.row(r), row);
        const std::vector<std::byte> q = quant::quantize_row(t.type, row);
        std::memcpy(dst + (r - first) * rb, q.data(), rb);
    }
}

}  // namespace

RowFill random_rows(const PlannedTensor& t, uint64_t seed) {
    auto gen = std::make_shared<const RowGenerator>(
        seed, t.source.tensor.empty() ? t.name : t.source.tensor, t.init);
    return [gen](uint64_t row, std::span<float> values) { gen->fill(row, values); };
}

void stream_tensor(const PlannedTensor& t, const RowFill& fill, unsigned n_threads,
                   TensorSink& sink, const std::ostream& out) {
    const uint64_t rows = t.n_rows();
    const size_t rb = row_bytes(t.type, t.ne[0]);
    const uint64_t batch_bytes = std::min(k_batch_bytes_per_thread * n_threads, k_max_batch_bytes);
    const uint64_t batch_rows = std::max<uint64_t>(1, batch_bytes / rb);
    std::vector<std::byte> buf;
    for (uint64_t first = 0; first < rows; first += batch_rows) {
        const uint64_t last = std::min(rows, first + batch_rows);
        buf.resize((last - first) * rb);
        if (n_threads > 1 && buf.size() >= k_min_parallel_bytes) {
            quant::for_row_parts(first, last, n_threads, [&](uint64_t a, uint64_t b) {
                encode_rows(t, fill, a, b, buf.data() + (a - first) * rb);
            });
        } else {
            encode_rows(t, fill, first, last, buf.data());
        }
        sink.write(buf);
        if (!out) {
            throw std::runtime_error("writing tensor '" + t.name +
                                     "' failed (disk full or the output was removed?)");
        }
    }
}

}  // namespace vkllm::synth
