// The continuous-batching engine against a scripted model: batched decode, chunked prefill,
// prefix reuse, stop conditions, queue limit, cancellation and model failures.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>

#include "server/engine.h"
#include "tests/server/scripted_model.h"

namespace vkllm::server {
namespace {

using testing::ScriptedModel;
using testing::test_tokenizer;
using testing::word_script;

// Gathers one request's events; wait() returns once the last one has arrived.
class Collector {
  public:
    EventCallback callback() {
        return [this](GenerationEvent&& ev) {
            std::lock_guard lock(mutex_);
            text += ev.text;
            for (auto& lp : ev.logprobs) logprobs.push_back(std::move(lp));
            if (ev.finish != Finish::None) {
                last = std::move(ev);
                done_ = true;
                cv_.notify_all();
            }
        };
    }
    const GenerationEvent& wait() {
        std::unique_lock lock(mutex_);
        EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [this] { return done_; }));
        return last;
    }

    std::string text;
    std::vector<TokenLogprob> logprobs;
    GenerationEvent last;

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
};

GenerationJob greedy_job(std::vector<int32_t> prompt, uint32_t max_tokens) {
    GenerationJob job;
    job.prompt = std::move(prompt);
    job.max_tokens = max_tokens;
    job.sampling.temperature = 0.0f;
    return job;
}

std::vector<int32_t> prompt_of(const std::string& text) {
    return test_tokenizer().encode(text, true, true);
}

// What the script produces for `prompt` in `n` tokens, decoded.
std::string expected_text(const ScriptedModel& m, size_t prompt_len, uint32_t n) {
    std::vector<int32_t> ids;
    for (uint32_t i = 0; i < n; ++i) ids.push_back(m.scripted(prompt_len + i));
    return test_tokenizer().decode(ids);
}

struct EngineTest : ::testing::Test {
    void start(uint32_t n_seq, uint32_t n_ctx, bool with_eog, EngineOptions options = {}) {
        model = std::make_unique<ScriptedModel>(n_seq, n_ctx, word_script(with_eog));
        engine = std::make_unique<Engine>(*model, test_tokenizer(), metrics, options);
    }
    Metrics metrics;
    std::unique_ptr<ScriptedModel> model;
    std::unique_ptr<Engine> engine;
};

TEST_F(EngineTest, GeneratesTheScriptUpToMaxTokens) {
    start(1, 256, false);
    Collector c;
    const auto prompt = prompt_of("Hello there");
    ASSERT_TRUE(engine->submit(greedy_job(prompt, 5), c.callback()));
    const GenerationEvent& last = c.wait();
    EXPECT_EQ(last.finish, Finish::Length);
    EXPECT_EQ(c.text, expected_text(*model, prompt.size(), 5));
    EXPECT_EQ(last.prompt_tokens, prompt.size());
    EXPECT_EQ(last.completion_tokens, 5u);
}

TEST_F(EngineTest, EndOfTurnTokenStops) {
    start(1, 256, true);
    Collector c;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("x"), 100), c.callback()));
    EXPECT_EQ(c.wait().finish, Finish::Stop);
    EXPECT_EQ(c.text.find("<turn|>"), std::string::npos);
    EXPECT_LE(c.last.completion_tokens, word_script(true).size());
}

TEST_F(EngineTest, StopStringCutsTheText) {
    start(1, 256, false);
    Collector c;
    GenerationJob job = greedy_job(prompt_of("x"), 100);
    job.stop = {" four"};
    ASSERT_TRUE(engine->submit(std::move(job), c.callback()));
    EXPECT_EQ(c.wait().finish, Finish::Stop);
    EXPECT_EQ(c.text.find("four"), std::string::npos);
    EXPECT_LT(c.text.size(), 30u);
}

TEST_F(EngineTest, ContextEndFinishesWithLength) {
    start(1, 16, false);
    Collector c;
    const auto prompt = prompt_of("a b c d e f g h");
    ASSERT_LT(prompt.size(), 16u);
    ASSERT_TRUE(engine->submit(greedy_job(prompt, 1000), c.callback()));
    EXPECT_EQ(c.wait().finish, Finish::Length);
    EXPECT_EQ(c.last.completion_tokens, 16u - prompt.size() + 1);
}

// Issue #11: a long prompt is prefilled in chunks inside the same steps that decode the other
// slots, so the streaming slots get a token in every step of that prefill (counted in steps,
// not time), and the outputs are still the sequential ones.
TEST_F(EngineTest, StreamingSlotsGetATokenEveryStepWhileALongPromptPrefills) {
    EngineOptions options;
    options.prefill_chunk = 12;  // step budget: 3 decode tokens + 9 prompt tokens
    start(4, 512, false, options);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 3; ++i) prompts.push_back(prompt_of("short " + std::to_string(i)));
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += " word" + std::to_string(i);
    prompts.push_back(prompt_of(long_text));
    ASSERT_GT(prompts[3].size(), 60u);
    std::vector<std::unique_ptr<Collector>> cs;
    for (size_t i = 0; i < prompts.size(); ++i) {
        cs.push_back(std::make_unique<Collector>());
        ASSERT_TRUE(engine->submit(greedy_job(prompts[i], i < 3 ? 40 : 5), cs[i]->callback()));
    }
    for (size_t i = 0; i < cs.size(); ++i) {
        EXPECT_EQ(cs[i]->wait().finish, Finish::Length);
        EXPECT_EQ(cs[i]->text, expected_text(*model, prompts[i].size(), i < 3 ? 40 : 5)) << i;
    }
    engine->stop();
    // Which sequence took the long prompt: the one whose prompt entries add up to its length.
    std::map<uint32_t, size_t> prompt_tokens;
    for (const auto& step : model->steps) {
        for (const auto& e : step) {
            if (!e.decode) prompt_tokens[e.seq] += e.n;
        }
    }
    uint32_t long_seq = UINT32_MAX;
    for (const auto& [seq, n] : prompt_tokens) {
        if (n == prompts[3].size()) long_seq = seq;
    }
    ASSERT_NE(long_seq, UINT32_MAX);
    size_t chunks = 0, chunk_steps_with_all_streams = 0;
    for (const auto& step : model->steps) {
        size_t step_tokens = 0, decodes = 0;
        bool long_chunk = false;
        for (const auto& e : step) {
            step_tokens += e.n;
            decodes += e.decode ? 1 : 0;
            long_chunk = long_chunk || (e.seq == long_seq && !e.decode);
        }
        EXPECT_LE(step_tokens, 12u);
        if (!long_chunk) continue;
        ++chunks;
        if (decodes == 3) ++chunk_steps_with_all_streams;
    }
    // At most the first chunk can come before the short prompts are in (when all four are
    // admitted together); every other chunk shares its step with a token for each stream.
    EXPECT_GE(chunks, 7u);
    EXPECT_GE(chunk_steps_with_all_streams, chunks - 1);
    std::printf(
        "[ info     ] long prompt of %zu tokens: %zu chunks, %zu of them beside 3 decodes\n",
        prompts[3].size(), chunks, chunk_steps_with_all_streams);
}

TEST_F(EngineTest, ConcurrentRequestsAreBatchedAndMatchSequentialOutput) {
    EngineOptions options;
    options.prefill_chunk = 3;  // several chunks per prompt, interleaved with decode steps
    start(4, 512, false, options);
    model->decode_delay = std::chrono::milliseconds(1);
    std::vector<std::unique_ptr<Collector>> cs;
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 10; ++i) {
        prompts.push_back(prompt_of("request number " + std::to_string(i) + std::string(i, '!')));
        cs.push_back(std::make_unique<Collector>());
        ASSERT_TRUE(engine->submit(greedy_job(prompts.back(), 20), cs.back()->callback()));
    }
    for (size_t i = 0; i < cs.size(); ++i) {
        EXPECT_EQ(cs[i]->wait().finish, Finish::Length);
        EXPECT_EQ(cs[i]->text, expected_text(*model, prompts[i].size(), 20)) << i;
    }
    EXPECT_GT(model->max_batch.load(), 1u);
    EXPECT_LE(model->max_batch.load(), 4u);
}

TEST_F(EngineTest, SharedPrefixIsReusedAndGivesTheSameOutput) {
    start(1, 512, false);
    const auto first = prompt_of("The same long system prompt, then question one");
    Collector a;
    ASSERT_TRUE(engine->submit(greedy_job(first, 3), a.callback()));
    a.wait();
    const auto second = prompt_of("The same long system prompt, then question two");
    Collector b;
    ASSERT_TRUE(engine->submit(greedy_job(second, 3), b.callback()));
    EXPECT_EQ(b.wait().finish, Finish::Length);
    EXPECT_GT(b.last.cached_tokens, 5u);
    EXPECT_EQ(b.text, expected_text(*model, second.size(), 3));
}

TEST_F(EngineTest, SlidingWindowTruncateKeepingLessIsHandled) {
    start(1, 512, false);
    model->window = 4;  // truncate keeps half of what is asked when cutting deep
    const auto first = prompt_of("alpha beta gamma delta epsilon zeta eta theta iota kappa");
    Collector a;
    ASSERT_TRUE(engine->submit(greedy_job(first, 20), a.callback()));
    a.wait();
    const auto second = prompt_of("alpha beta gamma delta epsilon zeta eta theta iota lambda");
    Collector b;
    ASSERT_TRUE(engine->submit(greedy_job(second, 4), b.callback()));
    b.wait();
    EXPECT_LT(b.last.cached_tokens, second.size() - 2);
    EXPECT_EQ(b.text, expected_text(*model, second.size(), 4));
}

TEST_F(EngineTest, QueueLimitRefusesSubmissions) {
    EngineOptions options;
    options.max_queue = 1;
    start(1, 4096, false, options);
    model->decode_delay = std::chrono::milliseconds(5);
    Collector a, b, c;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("a"), 200), a.callback()));
    // Wait until the first request holds the slot, so the queue is what fills up.
    for (int i = 0; i < 1000 && metrics.gauges().slots_busy == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto id_b = engine->submit(greedy_job(prompt_of("b"), 200), b.callback());
    ASSERT_TRUE(id_b);
    EXPECT_FALSE(engine->submit(greedy_job(prompt_of("c"), 1), c.callback()));
    engine->cancel(*id_b);
    EXPECT_EQ(b.wait().finish, Finish::Cancelled);
    // Slot and queue space come back: a new request fits once the running one ends.
    Collector d;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("d"), 1), d.callback()));
    EXPECT_EQ(d.wait().finish, Finish::Length);
    EXPECT_EQ(a.wait().finish, Finish::Length);  // the collectors must outlive their requests
}

TEST_F(EngineTest, CancelFreesTheSlot) {
    start(1, 4096, false);
    model->decode_delay = std::chrono::milliseconds(2);
    Collector a;
    const auto id = engine->submit(greedy_job(prompt_of("a"), 3000), a.callback());
    ASSERT_TRUE(id);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    engine->cancel(*id);
    EXPECT_EQ(a.wait().finish, Finish::Cancelled);
    Collector b;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("b"), 2), b.callback()));
    EXPECT_EQ(b.wait().finish, Finish::Length);
}

TEST_F(EngineTest, ModelFailureFailsTheStepAndTheEngineRecovers) {
    start(2, 256, false);
    model->fail_decode = true;
    Collector a, b;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("a"), 10), a.callback()));
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("b"), 10), b.callback()));
    EXPECT_EQ(a.wait().finish, Finish::Error);
    EXPECT_EQ(b.wait().finish, Finish::Error);
    EXPECT_NE(a.last.error.find("scripted decode failure"), std::string::npos);
    model->fail_decode = false;
    Collector c;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("c"), 4), c.callback()));
    EXPECT_EQ(c.wait().finish, Finish::Length);
}

TEST_F(EngineTest, LogprobsOfTheScriptedToken) {
    start(1, 256, false);
    Collector c;
    GenerationJob job = greedy_job(prompt_of("x"), 3);
    job.logprobs = true;
    job.top_logprobs = 2;
    ASSERT_TRUE(engine->submit(std::move(job), c.callback()));
    c.wait();
    ASSERT_EQ(c.logprobs.size(), 3u);
    // One logit of 20 against n_vocab - 1 zeros.
    const double n = static_cast<double>(test_tokenizer().vocab_size());
    const double expected = 20.0 - std::log(std::exp(20.0) + (n - 1.0));
    EXPECT_NEAR(c.logprobs[0].logprob, expected, 1e-3);
    ASSERT_EQ(c.logprobs[0].top.size(), 2u);
    EXPECT_EQ(c.logprobs[0].top[0].token, c.logprobs[0].token);
}

TEST_F(EngineTest, BadSamplingParametersAreRejectedAtSubmit) {
    start(1, 256, false);
    GenerationJob job = greedy_job(prompt_of("x"), 3);
    job.sampling.logit_bias = {{-5, 1.0f}};
    EXPECT_THROW(engine->submit(std::move(job), [](GenerationEvent&&) {}), std::invalid_argument);
}

TEST_F(EngineTest, StopEndsQueuedAndRunningRequests) {
    start(1, 4096, false);
    model->decode_delay = std::chrono::milliseconds(2);
    Collector a, b;
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("a"), 3000), a.callback()));
    ASSERT_TRUE(engine->submit(greedy_job(prompt_of("b"), 3000), b.callback()));
    engine->stop();
    EXPECT_EQ(a.wait().finish, Finish::Cancelled);
    EXPECT_EQ(b.wait().finish, Finish::Cancelled);
    EXPECT_FALSE(engine->submit(greedy_job(prompt_of("c"), 1), [](GenerationEvent&&) {}));
}

}  // namespace
}  // namespace vkllm::server
