// The generation loop against a scripted model (no GPU): end-of-generation, stop strings,
// max_tokens, a full context, KV reuse across calls, ignore_eos, UTF-8-safe streaming.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "runtime/generate/generation.h"
#include "runtime/model/step_entry.h"

namespace vkllm {
namespace {

// Answers every step with logits that favour the next token of `script` (the first after a
// prefill, then one further per decode), and records what it was asked to do.
class ScriptedModel final : public SequenceModel {
  public:
    ScriptedModel(uint32_t n_vocab, uint32_t n_ctx, std::vector<int32_t> script)
        : n_vocab_(n_vocab), n_ctx_(n_ctx), script_(std::move(script)) {}

    uint32_t n_ctx() const override { return n_ctx_; }
    uint32_t n_vocab() const override { return n_vocab_; }
    uint32_t length() const override { return static_cast<uint32_t>(tokens.size()); }
    std::vector<float> prefill(std::span<const int32_t> t) override {
        if (t.empty()) throw std::invalid_argument("empty prefill");
        if (tokens.size() + t.size() > n_ctx_) throw ContextOverflowError("overflow");
        tokens.insert(tokens.end(), t.begin(), t.end());
        prefills.emplace_back(t.begin(), t.end());
        step_ = 0;
        return logits();
    }
    std::vector<float> decode(int32_t token) override {
        if (tokens.size() + 1 > n_ctx_) throw ContextOverflowError("overflow");
        tokens.push_back(token);
        ++decodes;
        ++step_;
        return logits();
    }
    uint32_t truncate(uint32_t n) override {
        truncations.push_back(n);
        if (n < tokens.size()) tokens.resize(n);
        return static_cast<uint32_t>(tokens.size());
    }

    std::vector<int32_t> tokens;
    std::vector<std::vector<int32_t>> prefills;
    std::vector<uint32_t> truncations;
    int decodes = 0;

  private:
    std::vector<float> logits() const {
        std::vector<float> l(n_vocab_, -10.0f);
        l[static_cast<size_t>(script_[std::min(step_, script_.size() - 1)])] = 10.0f;
        return l;
    }
    uint32_t n_vocab_;
    uint32_t n_ctx_;
    std::vector<int32_t> script_;
    size_t step_ = 0;
};

class Generation : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        file_ = std::make_unique<GgufFile>(
            GgufFile::open(std::filesystem::path(VKLLM_TEST_MODELS_DIR) / "vocab-gemma4.gguf"));
        tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*file_));
    }
    static void TearDownTestSuite() {
        tok_.reset();
        file_.reset();
    }
    static const Tokenizer& tok() { return *tok_; }
    static uint32_t n_vocab() { return static_cast<uint32_t>(tok_->vocab_size()); }
    static std::vector<int32_t> ids(const std::string& text) {
        return tok().encode(text, false, false);
    }
    static std::vector<int32_t> with(std::vector<int32_t> a, const std::vector<int32_t>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    }
    static GenerationParams greedy() {
        GenerationParams p;
        p.sampling.temperature = 0.0f;
        return p;
    }

    static inline std::unique_ptr<GgufFile> file_;
    static inline std::unique_ptr<Tokenizer> tok_;
};

TEST_F(Generation, StreamsTheScriptAndStopsAtEndOfGeneration) {
    const std::vector<int32_t> answer = ids("Hello world, this is a test.");
    ScriptedModel model(n_vocab(), 256, with(answer, {tok().end_of_turn().value()}));
    Generator gen(model, tok());
    std::string streamed;
    const GenerationResult r = gen.generate(tok().encode("Say hello", true, false), greedy(),
                                            [&](std::string_view t) { streamed += t; });
    EXPECT_EQ(r.tokens, answer);
    EXPECT_EQ(r.text, "Hello world, this is a test.");
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.finish, Finish::Stop);
    EXPECT_STREQ(finish_name(r.finish), "stop");
    EXPECT_EQ(r.timing.decode_tokens, answer.size());
    EXPECT_EQ(gen.cached_tokens(), model.tokens);
}

TEST_F(Generation, MaxTokensEndsWithLengthAndNoWastedDecode) {
    ScriptedModel model(n_vocab(), 256, ids("one two three four five"));
    Generator gen(model, tok());
    GenerationParams p = greedy();
    p.max_tokens = 2;
    const GenerationResult r = gen.generate(ids("x"), p);
    EXPECT_EQ(r.tokens.size(), 2u);
    EXPECT_EQ(r.text, "one two");
    EXPECT_EQ(r.finish, Finish::Length);
    EXPECT_STREQ(finish_name(r.finish), "length");
    EXPECT_EQ(model.decodes, 1);

    p.max_tokens = 0;
    const GenerationResult none = gen.generate(ids("y"), p);
    EXPECT_TRUE(none.tokens.empty());
    EXPECT_EQ(none.finish, Finish::Length);
}

TEST_F(Generation, StopStringEndsTheTextBeforeIt) {
    ScriptedModel model(n_vocab(), 256, ids("Hello world, this is a test."));
    Generator gen(model, tok());
    GenerationParams p = greedy();
    p.stop = {"zzz", ", th"};
    std::string streamed;
    const GenerationResult r =
        gen.generate(ids("q"), p, [&](std::string_view t) { streamed += t; });
    EXPECT_EQ(r.text, "Hello world");
    EXPECT_EQ(streamed, "Hello world");
    EXPECT_EQ(r.finish, Finish::Stop);
}

TEST_F(Generation, FullContextEndsWithLength) {
    const std::vector<int32_t> prompt = ids("a b c");
    ScriptedModel model(n_vocab(), static_cast<uint32_t>(prompt.size() + 3), ids(" x y z w v u t"));
    Generator gen(model, tok());
    const GenerationResult r = gen.generate(prompt, greedy());
    EXPECT_EQ(r.tokens.size(), 4u);  // 3 fed back to fill the context, the 4th only sampled
    EXPECT_EQ(model.tokens.size(), prompt.size() + 3);
    EXPECT_EQ(r.finish, Finish::Length);

    ScriptedModel small(n_vocab(), 2, ids("x"));
    Generator gen2(small, tok());
    EXPECT_THROW(gen2.generate(prompt, greedy()), ContextOverflowError);
    EXPECT_THROW(gen2.generate({}, greedy()), std::invalid_argument);
}

TEST_F(Generation, ReusesTheCachedPrefixAcrossCalls) {
    const int32_t eot = tok().end_of_turn().value();
    ScriptedModel model(n_vocab(), 512, with(ids("Fine, thanks."), {eot}));
    Generator gen(model, tok());
    const std::vector<int32_t> turn1 = with({tok().bos()}, ids("How are you?"));
    const GenerationResult r1 = gen.generate(turn1, greedy());
    EXPECT_EQ(r1.timing.reused_tokens, 0u);
    ASSERT_EQ(model.prefills.size(), 1u);

    // The next prompt extends everything the cache holds: only the new suffix is prefilled.
    const std::vector<int32_t> suffix = ids(" And you?");
    const std::vector<int32_t> turn2 = with(with(turn1, r1.tokens), suffix);
    const GenerationResult r2 = gen.generate(turn2, greedy());
    EXPECT_EQ(r2.timing.reused_tokens, turn1.size() + r1.tokens.size());
    EXPECT_EQ(r2.timing.prefill_tokens, suffix.size());
    EXPECT_EQ(model.prefills.back(), suffix);
    EXPECT_TRUE(model.truncations.empty());

    // A prompt that diverges after 3 tokens: cut back to the common prefix, prefill the rest.
    std::vector<int32_t> turn3(turn2.begin(), turn2.begin() + 3);
    const std::vector<int32_t> other = ids(" something else");
    turn3.insert(turn3.end(), other.begin(), other.end());
    const GenerationResult r3 = gen.generate(turn3, greedy());
    EXPECT_EQ(model.truncations, std::vector<uint32_t>{3});
    EXPECT_EQ(r3.timing.reused_tokens, 3u);
    EXPECT_EQ(model.prefills.back(), other);
    EXPECT_EQ(std::vector<int32_t>(model.tokens.begin(), model.tokens.begin() + 3),
              std::vector<int32_t>(turn2.begin(), turn2.begin() + 3));

    // The same prompt again: the last token is re-run for its logits.
    const std::vector<int32_t> cached = gen.cached_tokens();
    const GenerationResult r4 = gen.generate(std::span(cached).first(5), greedy());
    EXPECT_EQ(r4.timing.reused_tokens, 4u);
    EXPECT_EQ(r4.timing.prefill_tokens, 1u);

    gen.reset();
    EXPECT_TRUE(model.tokens.empty());
    EXPECT_TRUE(gen.cached_tokens().empty());
}

TEST_F(Generation, IgnoreEosBansEndOfGenerationTokens) {
    const int32_t eot = tok().end_of_turn().value();
    ScriptedModel model(n_vocab(), 256, with(ids("Hi"), {eot, eot, eot}));
    Generator gen(model, tok());
    GenerationParams p = greedy();
    p.ignore_eos = true;
    p.max_tokens = 4;
    const GenerationResult r = gen.generate(ids("q"), p);
    EXPECT_EQ(r.tokens.size(), 4u);
    EXPECT_EQ(r.finish, Finish::Length);
    for (int32_t t : r.tokens) EXPECT_FALSE(tok().is_eog(t));
}

TEST_F(Generation, StreamsOnlyWholeUtf8Characters) {
    // "你" (E4 BD A0) as three byte-fallback tokens, then "!".
    const std::vector<int32_t> bytes = {tok().find_token("<0xE4>").value(),
                                        tok().find_token("<0xBD>").value(),
                                        tok().find_token("<0xA0>").value()};
    ScriptedModel model(n_vocab(), 256, with(with(bytes, ids("!")), {tok().eos()}));
    Generator gen(model, tok());
    std::vector<std::string> chunks;
    const GenerationResult r =
        gen.generate(ids("q"), greedy(), [&](std::string_view t) { chunks.emplace_back(t); });
    EXPECT_EQ(r.text, "你!");
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0], "你");
}

TEST(ReusablePrefix, CommonPrefixButNeverTheWholePrompt) {
    const std::vector<int32_t> cached = {1, 2, 3, 4};
    EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 3, 4, 5}), 4u);
    EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 9, 4, 5}), 2u);
    EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2, 3, 4}), 3u);
    EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{1, 2}), 1u);
    EXPECT_EQ(reusable_prefix(cached, std::vector<int32_t>{7}), 0u);
    EXPECT_EQ(reusable_prefix({}, std::vector<int32_t>{1, 2}), 0u);
    EXPECT_EQ(reusable_prefix(cached, {}), 0u);
}

}  // namespace
}  // namespace vkllm
