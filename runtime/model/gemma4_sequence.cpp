#include "runtime/model/gemma4_sequence.h"

#include "runtime/model/gemma4_model.h"

namespace vkllm {

uint32_t Gemma4Sequence::n_ctx() const {
    return model_->n_ctx();
}
uint32_t Gemma4Sequence::n_vocab() const {
    return model_->n_vocab();
}
uint32_t Gemma4Sequence::length() const {
    return model_->seq_length(seq_);
}

std::vector<float> Gemma4Sequence::prefill(std::span<const int32_t> tokens) {
    return model_->prefill(seq_, tokens, /*all_logits=*/false);
}

std::vector<float> Gemma4Sequence::decode(int32_t token) {
    const SeqToken one{seq_, token};
    return model_->decode(std::span<const SeqToken>(&one, 1));
}

uint32_t Gemma4Sequence::truncate(uint32_t n) {
    return model_->truncate(seq_, n);
}

}  // namespace vkllm
