#pragma once
// A BatchModel with no GPU for the server tests: the next token of a sequence is a pure function
// of that sequence's length (cycling through `script`), so every request's output is known in
// advance and is the same whether it runs alone or batched with others. Records what the engine
// asked of it (every step's entries, the largest decode batch) and can be told to fail or to be
// slow (a delay per step that decodes).

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
    ScriptedModel(uint32_t n_seq, uint32_t n_ctx, std::vector<int32_t> script,
                  uint32_t max_entry_tokens = 512)
        : max_entry_(max_entry_tokens),
          n_seq_(n_seq),
          n_ctx_(n_ctx),
          n_vocab_(static_cast<uint32_t>(test_tokenizer().vocab_size())),
          script_(std::move(script)),
          seqs_(n_seq),
          starts_(n_seq, 0),
          awaiting_(n_seq, false) {}

    uint32_t n_seq() const override { return n_seq_; }
    uint32_t n_ctx() const override { return n_ctx_; }
    uint32_t n_vocab() const override { return n_vocab_; }

    uint32_t max_step_tokens() const override { return std::max(max_entry_, n_seq_); }
    uint32_t max_entry_tokens() const override { return max_entry_; }

    // What one step carried: per entry, the sequence, its token count, whether it was a decode
    // token, and the logits it asked for.
    struct LoggedEntry {
        uint32_t seq;
        size_t n;
        bool decode;
        LogitsWanted logits;
    };

    // An entry is a decode when it is one token right after the model returned logits for its
    // sequence (the token sampled from them); anything else is prompt (it restarts the script
    // position of from_prefill_end).
    std::vector<float> step(std::span<const StepEntry> entries) override {
        size_t decodes = 0;
        {
            std::lock_guard lock(mutex_);
            for (const StepEntry& e : entries) {
                check(e.seq);
                decodes += is_decode(e) ? 1 : 0;
            }
        }
        if (decodes > 0 && decode_delay.count() > 0) std::this_thread::sleep_for(decode_delay);
        std::lock_guard lock(mutex_);
        if (decodes > 0 && fail_decode) throw std::runtime_error("scripted decode failure");
        size_t total = 0;
        for (const StepEntry& e : entries) {
            if (e.tokens.empty() || e.tokens.size() > max_entry_)
                throw std::invalid_argument("bad entry size");
            if (seqs_[e.seq].size() + e.tokens.size() > n_ctx_)
                throw std::runtime_error("context overflow");
            if (e.logits == LogitsWanted::All) throw std::invalid_argument("scripted: no All");
            total += e.tokens.size();
        }
        if (total > max_step_tokens()) throw std::invalid_argument("step too large");
        std::vector<float> out;
        std::vector<LoggedEntry> log;
        for (const StepEntry& e : entries) {
            const bool decode = is_decode(e);
            seqs_[e.seq].insert(seqs_[e.seq].end(), e.tokens.begin(), e.tokens.end());
            if (!decode) {
                starts_[e.seq] = seqs_[e.seq].size();
                ++prefill_calls;
            }
            awaiting_[e.seq] = e.logits != LogitsWanted::None;
            log.push_back({e.seq, e.tokens.size(), decode, e.logits});
            if (e.logits == LogitsWanted::None) continue;
            const std::vector<float> l = logits_for(e.seq);
            out.insert(out.end(), l.begin(), l.end());
        }
        max_batch = std::max(max_batch.load(), decodes);
        if (decodes > 0) ++decode_calls;
        steps.push_back(std::move(log));
        return out;
    }

    uint32_t truncate(uint32_t seq, uint32_t n) override {
        std::lock_guard lock(mutex_);
        check(seq);
        // Like a sliding-window cache: a cut deep into the past keeps less than asked.
        uint32_t keep = std::min<uint32_t>(n, static_cast<uint32_t>(seqs_[seq].size()));
        if (window > 0 && seqs_[seq].size() > keep + window) keep = keep / 2;
        seqs_[seq].resize(keep);
        awaiting_[seq] = false;
        return keep;
    }

    // The token the script emits after a sequence of `length` tokens.
    int32_t scripted(size_t length) const { return script_[length % script_.size()]; }

    // Off: the script position is the sequence length. On: it restarts after every prefill, so
    // each answer is the script from its beginning (for reasoning and tool-call output).
    bool from_prefill_end = false;
    std::vector<std::vector<LoggedEntry>> steps;  // engine thread writes; read after it stops
    std::atomic<size_t> max_batch{0};
    std::atomic<size_t> prefill_calls{0};
    std::atomic<size_t> decode_calls{0};
    std::atomic<bool> fail_decode{false};
    std::chrono::milliseconds decode_delay{0};
    uint32_t window = 0;

  private:
    bool is_decode(const StepEntry& e) const {
        return e.tokens.size() == 1 && e.logits == LogitsWanted::Last && awaiting_[e.seq];
    }
    void check(uint32_t seq) const {
        if (seq >= n_seq_) throw std::invalid_argument("bad sequence");
    }
    std::vector<float> logits_for(uint32_t seq) const {
        std::vector<float> logits(n_vocab_, 0.0f);
        const size_t len = seqs_[seq].size();
        logits[static_cast<size_t>(scripted(from_prefill_end ? len - starts_[seq] : len))] = 20.0f;
        return logits;
    }

    uint32_t max_entry_;
    uint32_t n_seq_;
    uint32_t n_ctx_;
    uint32_t n_vocab_;
    std::vector<int32_t> script_;
    std::mutex mutex_;
    std::vector<std::vector<int32_t>> seqs_;
    std::vector<size_t> starts_;  // length after the last prefill, per sequence
    std::vector<bool> awaiting_;  // logits were returned: a one-token entry next is a decode
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
