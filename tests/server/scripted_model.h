#pragma once
// A BatchModel with no GPU for the server tests: the next token of a sequence is a pure function
// of that sequence's length (cycling through `script`), so every request's output is known in
// advance and is the same whether it runs alone or batched with others. Records what the engine
// asked of it (largest decode batch, prefill calls) and can be told to fail or to be slow.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "server/batch_model.h"
#include "server/server_app.h"

namespace vkllm::server::testing {

inline const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

// The Gemma 4 tokenizer from the vocabulary fixture, loaded once per process.
inline const Tokenizer& test_tokenizer() {
    static const Tokenizer tokenizer = [] {
        const GgufFile file = GgufFile::open(k_models / "vocab-gemma4.gguf");
        return Tokenizer::from_gguf(file);
    }();
    return tokenizer;
}

class ScriptedModel final : public BatchModel {
  public:
    ScriptedModel(uint32_t n_seq, uint32_t n_ctx, std::vector<int32_t> script)
        : n_seq_(n_seq),
          n_ctx_(n_ctx),
          n_vocab_(static_cast<uint32_t>(test_tokenizer().vocab_size())),
          script_(std::move(script)),
          seqs_(n_seq),
          starts_(n_seq, 0) {}

    uint32_t n_seq() const override { return n_seq_; }
    uint32_t n_ctx() const override { return n_ctx_; }
    uint32_t n_vocab() const override { return n_vocab_; }

    std::vector<float> prefill(uint32_t seq, std::span<const int32_t> tokens) override {
        std::lock_guard lock(mutex_);
        check(seq);
        if (seqs_[seq].size() + tokens.size() > n_ctx_)
            throw std::runtime_error("context overflow");
        seqs_[seq].insert(seqs_[seq].end(), tokens.begin(), tokens.end());
        starts_[seq] = seqs_[seq].size();
        ++prefill_calls;
        return logits_for(seq);
    }

    std::vector<float> decode(std::span<const SlotToken> batch) override {
        if (decode_delay.count() > 0) std::this_thread::sleep_for(decode_delay);
        std::lock_guard lock(mutex_);
        if (fail_decode) throw std::runtime_error("scripted decode failure");
        std::vector<float> out;
        for (const SlotToken& t : batch) {
            check(t.seq);
            seqs_[t.seq].push_back(t.token);
            const std::vector<float> l = logits_for(t.seq);
            out.insert(out.end(), l.begin(), l.end());
        }
        max_batch = std::max<size_t>(max_batch, batch.size());
        ++decode_calls;
        return out;
    }

    uint32_t truncate(uint32_t seq, uint32_t n) override {
        std::lock_guard lock(mutex_);
        check(seq);
        // Like a sliding-window cache: a cut deep into the past keeps less than asked.
        uint32_t keep = std::min<uint32_t>(n, static_cast<uint32_t>(seqs_[seq].size()));
        if (window > 0 && seqs_[seq].size() > keep + window) keep = keep / 2;
        seqs_[seq].resize(keep);
        return keep;
    }

    // The token the script emits after a sequence of `length` tokens.
    int32_t scripted(size_t length) const { return script_[length % script_.size()]; }

    // Off: the script position is the sequence length. On: it restarts after every prefill, so
    // each answer is the script from its beginning (for reasoning and tool-call output).
    bool from_prefill_end = false;
    std::atomic<size_t> max_batch{0};
    std::atomic<size_t> prefill_calls{0};
    std::atomic<size_t> decode_calls{0};
    std::atomic<bool> fail_decode{false};
    std::chrono::milliseconds decode_delay{0};
    uint32_t window = 0;

  private:
    void check(uint32_t seq) const {
        if (seq >= n_seq_) throw std::invalid_argument("bad sequence");
    }
    std::vector<float> logits_for(uint32_t seq) const {
        std::vector<float> logits(n_vocab_, 0.0f);
        const size_t len = seqs_[seq].size();
        logits[static_cast<size_t>(scripted(from_prefill_end ? len - starts_[seq] : len))] = 20.0f;
        return logits;
    }

    uint32_t n_seq_;
    uint32_t n_ctx_;
    uint32_t n_vocab_;
    std::vector<int32_t> script_;
    std::mutex mutex_;
    std::vector<std::vector<int32_t>> seqs_;
    std::vector<size_t> starts_;  // length after the last prefill, per sequence
};

// A ServedModel wrapping a ScriptedModel the test keeps a pointer to.
class ScriptedServedModel final : public ServedModel {
  public:
    explicit ScriptedServedModel(std::unique_ptr<ScriptedModel> model) : model_(std::move(model)) {}
    BatchModel& model() override { return *model_; }
    const Tokenizer& tokenizer() const override { return test_tokenizer(); }

  private:
    std::unique_ptr<ScriptedModel> model_;
};

// Script ids of " one two three ..." words, followed by `<turn|>` when `with_eog`.
inline std::vector<int32_t> word_script(bool with_eog) {
    std::vector<int32_t> ids =
        test_tokenizer().encode(" one two three four five six seven", false, false);
    if (with_eog) ids.push_back(*test_tokenizer().end_of_turn());
    return ids;
}

}  // namespace vkllm::server::testing
