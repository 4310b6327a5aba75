#include "server/gemma4_served_model.h"

#include <vector>

namespace vkllm::server {
namespace {

class Gemma4ServedModel final : public ServedModel, public BatchModel {
  public:
    explicit Gemma4ServedModel(std::unique_ptr<LoadedModel> loaded) : loaded_(std::move(loaded)) {}

    BatchModel& model() override { return *this; }
    const Tokenizer& tokenizer() const override { return loaded_->tokenizer; }

    uint32_t n_seq() const override { return loaded_->model->n_seq(); }
    uint32_t n_ctx() const override { return loaded_->model->n_ctx(); }
    uint32_t n_vocab() const override { return loaded_->model->n_vocab(); }
    std::vector<float> prefill(uint32_t seq, std::span<const int32_t> tokens) override {
        return loaded_->model->prefill(seq, tokens, false);
    }
    std::vector<float> decode(std::span<const SlotToken> batch) override {
        batch_.clear();
        for (const SlotToken& t : batch) batch_.push_back(SeqToken{t.seq, t.token});
        return loaded_->model->decode(batch_);
    }
    uint32_t truncate(uint32_t seq, uint32_t n) override {
        return loaded_->model->truncate(seq, n);
    }

  private:
    std::unique_ptr<LoadedModel> loaded_;
    std::vector<SeqToken> batch_;
};

}  // namespace

std::unique_ptr<ServedModel> make_gemma4_served_model(std::unique_ptr<LoadedModel> loaded) {
    return std::make_unique<Gemma4ServedModel>(std::move(loaded));
}

}  // namespace vkllm::server
