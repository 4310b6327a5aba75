#pragma once
// CPU compute of MoE experts (issue #15, docs/design/moe-streaming.md): a cold expert that
// misses the device expert cache can be computed on the host straight from the mapped GGUF
// instead of being uploaded, when reading it once from host memory is cheaper than moving it
// over the bus. This is the expert FFN of gemma4-model.md §3.6 step 6 for the tokens routed to
// one expert: y = down · (gelu_tanh(gate · x) ⊙ (up · x)), fp32 accumulation, any weight type
// the loader's dequantizer decodes (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, ...), rows split over threads.
// No Vulkan here.

#include <cstdint>
#include <span>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"

namespace vkllm {

class CpuExperts {
  public:
    // `threads` workers per call (0: the hardware's count).
    CpuExperts(const GgufFile& file, const Gemma4Config& cfg, const Gemma4WeightsView& view,
               unsigned threads = 0);

    // One expert's work: its tokens' inputs (n_embd floats each) and where their outputs go
    // (n_embd floats each).
    struct Job {
        uint32_t expert = 0;
        std::vector<const float*> x;
        std::vector<float*> y;
    };
    // Runs every job of `layer`, the rows of each matrix split over the threads.
    void run(uint32_t layer, std::span<const Job> jobs) const;

    unsigned threads() const { return threads_; }

  private:
    struct LayerTensors {
        const TensorInfo* gate_up = nullptr;  // [n, 2F, E], or gate and up apart
        const TensorInfo* gate = nullptr;
        const TensorInfo* up = nullptr;
        const TensorInfo* down = nullptr;  // [F, n, E]
    };
    // out[c * rows + r] = row r of expert e of t (rows rows of K) · x[c], r in [r0, r1).
    void rows_times(const TensorInfo& t, uint32_t expert, uint64_t rows, uint64_t r0, uint64_t r1,
                    std::span<const float* const> x, float* out) const;

    const GgufFile& file_;
    uint32_t n_embd_ = 0, n_ff_ = 0;
    std::vector<LayerTensors> layers_;
    unsigned threads_ = 1;
};

}  // namespace vkllm
