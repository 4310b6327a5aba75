#pragma once
// CPU reference forward pass of a Gemma 4 target model (gemma4-model.md §3): slow and exact,
// fp32 activations with fp64 accumulation, weights dequantised with loader/quant_blocks.h. It
// processes one whole sequence at positions 0..T-1 (no KV cache: each layer attends over the
// prefix with the causal and sliding-window masks). It is the oracle for the Vulkan runtime.
//
// Borrows the GgufFile, which must outlive the Gemma4Reference.

#include <cstdint>
#include <span>
#include <vector>

#include "loader/gemma4_config.h"
#include "loader/gemma4_weights_view.h"
#include "loader/gguf_file.h"

namespace vkllm::reference {

class Gemma4Reference {
  public:
    // Validates the file (Gemma4Config::from_gguf); throws ModelFileError.
    explicit Gemma4Reference(const GgufFile& file);

    const Gemma4Config& config() const { return cfg_; }

    // Post-final-norm hidden ȳ (§3.8 step 1; what MTP consumes) of every position:
    // [n_embd, n_tokens]. Throws std::invalid_argument for an empty sequence or a token id
    // outside the vocabulary.
    std::vector<float> forward_hidden(std::span<const int32_t> tokens) const;

    // Logits of every position after the final softcap and suppress-token masking:
    // [n_vocab, n_tokens] (column t = logits predicting token t + 1).
    std::vector<float> forward(std::span<const int32_t> tokens) const;

  private:
    const GgufFile& file_;
    Gemma4Config cfg_;
    Gemma4WeightsView weights_;
};

}  // namespace vkllm::reference
