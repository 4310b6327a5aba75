#pragma once
// Generates, quantizes and writes one planned tensor in row batches, so memory stays at a few
// batches (about 8 MiB of output per thread, 256 MiB at most) whatever the tensor size. Rows are
// independent (weight_gen.h), so a batch is split across threads and still written in row order:
// the bytes do not depend on the thread count.

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>

#include "loader/gguf_writer.h"
#include "synth/tensor_plan.h"

namespace vkllm::synth {

// Writes t's bytes to `sink`. `out` is the stream under the sink; it is checked after every
// batch so a full disk fails at once rather than after the whole model was generated.
// n_threads >= 1.
// `fill(row, values)` gives row `row` of the tensor's value stream (t.source maps t's rows onto
// it) and is called from several threads at once.
using RowFill = std::function<void(uint64_t row, std::span<float> values)>;

void stream_tensor(const PlannedTensor& t, const RowFill& fill, unsigned n_threads,
                   TensorSink& sink, const std::ostream& out);

// The random value stream of t (weight_gen.h) for `seed`.
RowFill random_rows(const PlannedTensor& t, uint64_t seed);

}  // namespace vkllm::synth
