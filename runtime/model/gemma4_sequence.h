#pragma once
// A SequenceModel backed by one sequence of a Gemma4Model (the generation loop's real model).

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/generate/sequence_model.h"

namespace vkllm {

class Gemma4Model;

// Sequence `seq` of a Gemma4Model, which it borrows.
class Gemma4Sequence final : public SequenceModel {
  public:
    Gemma4Sequence(Gemma4Model& model, uint32_t seq) : model_(&model), seq_(seq) {}
    uint32_t n_ctx() const override;
    uint32_t n_vocab() const override;
    uint32_t length() const override;
    std::vector<float> prefill(std::span<const int32_t> tokens) override;
    std::vector<float> decode(int32_t token) override;
    uint32_t truncate(uint32_t n) override;

  private:
    Gemma4Model* model_;
    uint32_t seq_;
};

}  // namespace vkllm
