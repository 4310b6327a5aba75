#include "server/gemma4_served_model.h"

#include <span>
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
    uint32_t max_step_tokens() const override { return loaded_->model->max_step_tokens(); }
    uint32_t max_entry_tokens() const override { return loaded_->model->prefill_chunk(); }
    std::vector<float> step(std::span<const StepEntry> entries) override {
        return loaded_->model->step(entries);
    }
    std::optional<ExpertCacheCounters> expert_cache() const override {
        const std::optional<ExpertCacheStats> st = loaded_->model->expert_cache_stats();
        if (!st) return std::nullopt;
        return ExpertCacheCounters{loaded_->model->memory_plan().experts.slots_per_layer,
                                   st->lookups,
                                   st->hits,
                                   st->uploads,
                                   st->upload_bytes,
                                   st->waves,
                                   st->layer_steps,
                                   st->cpu_pairs,
                                   st->prefetched,
                                   st->prefetch_used};
    }
    uint32_t truncate(uint32_t seq, uint32_t n) override {
        return loaded_->model->truncate(seq, n);
    }

  private:
    std::unique_ptr<LoadedModel> loaded_;
};

}  // namespace

std::unique_ptr<ServedModel> make_gemma4_served_model(std::unique_ptr<LoadedModel> loaded) {
    return std::make_unique<Gemma4ServedModel>(std::move(loaded));
}

}  // namespace vkllm::server
