// Sampler chain and top_logprobs: greedy, reproducibility, penalties, bias, top-k / top-p / min-p
// sets checked by drawing many times with fixed seeds, parameter validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/generate/sampler.h"

namespace vkllm {
namespace {

constexpr float k_inf = std::numeric_limits<float>::infinity();

SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

// Plain sampling: no truncation, temperature 1, so token frequencies follow softmax(logits).
SamplingParams plain(uint64_t seed = 7) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
    std::map<int32_t, int> h;
    for (int i = 0; i < draws; ++i) {
        std::vector<float> scratch = logits;
        ++h[s.sample(scratch)];
    }
    return h;
}

// Logits whose softmax is roughly 0.5, 0.25, 0.125, 0.0625, ... over `n` tokens.
std::vector<float> halving_logits(size_t n) {
    std::vector<float> l(n);
    for (size_t i = 0; i < n; ++i) l[i] = -static_cast<float>(i) * std::log(2.0f);
    return l;
}

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
    Sampler s(greedy(), 6);
    std::vector<float> l = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f, 2.9f};
    EXPECT_EQ(s.sample(l), 1);
    std::vector<float> l2 = {-k_inf, -5.0f, -4.0f, -k_inf, -4.5f, -9.0f};
    EXPECT_EQ(s.sample(l2), 2);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
    SamplingParams p = plain();
    p.top_k = 1;
    p.temperature = 5.0f;
    Sampler s(p, 100);
    std::vector<float> logits(100);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
    const auto h = histogram(s, logits, 200);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h.begin()->first, 33);  // sin(33) = 0.9999
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
    const std::vector<float> logits = halving_logits(16);
    auto run = [&](uint64_t seed) {
        Sampler s(plain(seed), 16);
        std::vector<int32_t> out;
        for (int i = 0; i < 64; ++i) {
            std::vector<float> scratch = logits;
            out.push_back(s.sample(scratch));
        }
        return out;
    };
    EXPECT_EQ(run(42), run(42));
    EXPECT_NE(run(42), run(43));
    // reset() restarts the stream.
    Sampler s(plain(42), 16);
    std::vector<float> a = logits, b = logits;
    const int32_t first = s.sample(a);
    s.reset();
    EXPECT_EQ(s.sample(b), first);
}

TEST(Sampler, DrawFollowsSoftmaxAndTemperature) {
    const std::vector<float> logits = halving_logits(8);
    Sampler s(plain(), 8);
    const int n = 20000;
    auto h = histogram(s, logits, n);
    // Binomial sd at p = 0.5 over 20000 draws is ~0.0035; 0.02 is a wide margin.
    EXPECT_NEAR(h[0] / double(n), 128.0 / 255.0, 0.02);
    EXPECT_NEAR(h[1] / double(n), 64.0 / 255.0, 0.02);
    EXPECT_NEAR(h[2] / double(n), 32.0 / 255.0, 0.02);

    SamplingParams hot = plain();
    hot.temperature = 1e6f;  // flat: every token about equally likely
    Sampler flat(hot, 8);
    h = histogram(flat, logits, n);
    EXPECT_EQ(h.size(), 8u);
    for (const auto& [id, count] : h) EXPECT_NEAR(count / double(n), 0.125, 0.02) << id;
}

TEST(Sampler, TopKKeepsExactlyTheKBest) {
    SamplingParams p = plain();
    p.top_k = 3;
    p.temperature = 1e6f;  // flat inside the kept set
    Sampler s(p, 10);
    const std::vector<float> logits = {0.f, 9.f, 1.f, 8.f, 2.f, 7.f, 3.f, 7.f, 5.f, 4.f};
    const auto h = histogram(s, logits, 3000);
    // 9 (id 1), 8 (id 3), and of the tied 7s the lower id 5.
    ASSERT_EQ(h.size(), 3u);
    EXPECT_TRUE(h.count(1) && h.count(3) && h.count(5));
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
    const std::vector<float> logits = halving_logits(8);  // 0.502, 0.251, 0.125, 0.063, ...
    SamplingParams p = plain();
    p.top_p = 0.8f;  // 0.502 + 0.251 = 0.753 < 0.8, + 0.125 = 0.878 >= 0.8: keep 3
    p.temperature = 1e6f;
    Sampler s(p, 8);
    auto h = histogram(s, logits, 3000);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_TRUE(h.count(0) && h.count(1) && h.count(2));

    p.top_p = 0.5f;  // the first token alone holds 0.502
    Sampler one(p, 8);
    h = histogram(one, logits, 500);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h.begin()->first, 0);
}

TEST(Sampler, TopPWithoutTopKKeepsTheSameSetAsAFullSort) {
    // 300 close logits (many share a bucket of the unsorted path) plus exact ties.
    const size_t n = 300;
    std::vector<float> logits(n);
    uint64_t x = 12345;
    for (float& l : logits) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        l = static_cast<float>((x >> 33) % 5000) / 1000.0f;
    }
    for (size_t i = 0; i < 20; ++i) logits[i + 100] = logits[i];
    // A cluster of 40 logits closer together than any bucket, holding most of the mass, so the
    // cut falls inside one bucket.
    for (size_t i = 0; i < 40; ++i) logits[i * 7] = 8.0f + static_cast<float>(i % 13) * 1e-4f;
    for (const float top_p : {0.3f, 0.7f, 0.95f, 0.999f}) {
        // Reference: sort everything, keep the smallest prefix reaching top_p.
        std::vector<int32_t> order(n);
        for (size_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        const float max_logit = logits[static_cast<size_t>(order[0])];
        double total = 0.0;
        for (float l : logits) total += std::exp(static_cast<double>(l - max_logit));
        std::set<int32_t> want;
        double cumulative = 0.0;
        for (int32_t id : order) {
            want.insert(id);
            cumulative += std::exp(static_cast<double>(logits[id] - max_logit));
            if (cumulative >= static_cast<double>(top_p) * total) break;
        }
        SamplingParams p = plain();
        p.top_p = top_p;
        p.temperature = 1e6f;  // uniform over the kept set
        Sampler s(p, static_cast<uint32_t>(n));
        const auto h = histogram(s, logits, static_cast<int>(want.size()) * 60);
        std::set<int32_t> got;
        for (const auto& [id, count] : h) got.insert(id);
        EXPECT_EQ(got, want) << "top_p " << top_p;
    }
}

TEST(Sampler, TopPOnALargeVocabularySortsOnlyWhatItNeeds) {
    // 262144 tokens where 300 share most of the mass: the prefix search has to grow past its
    // first block of 64.
    const size_t n = 262144;
    std::vector<float> logits(n, -20.0f);
    for (size_t i = 0; i < 300; ++i) logits[(i * 7919) % n] = 5.0f;
    SamplingParams p = plain();
    p.top_p = 0.99f;
    Sampler s(p, static_cast<uint32_t>(n));
    for (int i = 0; i < 200; ++i) {
        std::vector<float> scratch = logits;
        const int32_t t = s.sample(scratch);
        EXPECT_EQ(logits[static_cast<size_t>(t)], 5.0f);
    }
}

TEST(Sampler, MinPDropsTokensBelowTheFractionOfTheBest) {
    const std::vector<float> logits = halving_logits(8);  // p_i / p_0 = 2^-i
    SamplingParams p = plain();
    p.min_p = 0.2f;  // keeps ratios 1, 0.5, 0.25; drops 0.125
    p.temperature = 1e6f;
    Sampler s(p, 8);
    const auto h = histogram(s, logits, 3000);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_TRUE(h.count(0) && h.count(1) && h.count(2));
}

TEST(Sampler, LogitBiasMinusInfinityBansAToken) {
    SamplingParams p = greedy();
    p.logit_bias = {{2, -k_inf}, {0, 1.5f}};
    Sampler s(p, 4);
    std::vector<float> l = {1.0f, 0.0f, 10.0f, 2.0f};
    EXPECT_EQ(s.sample(l), 0);  // 2 banned; 0 gets 1.0 + 1.5 > 2.0

    SamplingParams q = plain();
    q.logit_bias = {{0, -k_inf}};
    Sampler r(q, 3);
    const auto h = histogram(r, {10.f, 0.f, 0.f}, 500);
    EXPECT_EQ(h.count(0), 0u);

    SamplingParams all = greedy();
    all.logit_bias = {{0, -k_inf}, {1, -k_inf}};
    Sampler none(all, 2);
    std::vector<float> l2 = {1.0f, 2.0f};
    EXPECT_THROW(none.sample(l2), std::runtime_error);
}

TEST(Sampler, RepetitionPenaltyTouchesOnlyRecentTokens) {
    SamplingParams p = greedy();
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 2;
    Sampler s(p, 4);
    s.accept(0);  // falls out of the window below
    s.accept(1);
    s.accept(2);
    // 1: 4 / 2 = 2; 2: -1 * 2 = -2; 0 is no longer in the window: 3.5; 3: 3.
    std::vector<float> l = {3.5f, 4.0f, -1.0f, 3.0f};
    EXPECT_EQ(s.sample(l), 0);
    EXPECT_FLOAT_EQ(l[1], 2.0f);
    EXPECT_FLOAT_EQ(l[2], -2.0f);
    EXPECT_FLOAT_EQ(l[0], 3.5f);
    EXPECT_FLOAT_EQ(l[3], 3.0f);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountOccurrences) {
    SamplingParams p = greedy();
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.25f;
    Sampler s(p, 4);
    s.accept(1);
    s.accept(1);
    s.accept(1);
    s.accept(2);
    std::vector<float> l = {0.0f, 2.0f, 1.0f, 0.2f};
    s.sample(l);
    EXPECT_FLOAT_EQ(l[0], 0.0f);
    EXPECT_FLOAT_EQ(l[1], 2.0f - 0.5f - 3 * 0.25f);
    EXPECT_FLOAT_EQ(l[2], 1.0f - 0.5f - 0.25f);
    EXPECT_FLOAT_EQ(l[3], 0.2f);
}

TEST(Sampler, SampledTokensEnterThePenaltyHistory) {
    SamplingParams p = greedy();
    p.presence_penalty = 10.0f;
    Sampler s(p, 3);
    std::vector<float> a = {1.0f, 0.5f, 0.0f};
    EXPECT_EQ(s.sample(a), 0);
    std::vector<float> b = {1.0f, 0.5f, 0.0f};
    EXPECT_EQ(s.sample(b), 1);  // 0 is now penalised
}

TEST(Sampler, RejectsInvalidParametersNamingTheField) {
    auto message = [](SamplingParams p, uint32_t n_vocab = 10) {
        try {
            Sampler s(p, n_vocab);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    SamplingParams p;
    p.temperature = -0.5f;
    EXPECT_NE(message(p).find("temperature"), std::string::npos);
    p = {};
    p.top_p = 0.0f;
    EXPECT_NE(message(p).find("top_p"), std::string::npos);
    p.top_p = 1.5f;
    EXPECT_NE(message(p).find("top_p"), std::string::npos);
    p = {};
    p.min_p = -0.1f;
    EXPECT_NE(message(p).find("min_p"), std::string::npos);
    p = {};
    p.repeat_penalty = 0.0f;
    EXPECT_NE(message(p).find("repeat_penalty"), std::string::npos);
    p = {};
    p.repeat_last_n = -1;
    EXPECT_NE(message(p).find("repeat_last_n"), std::string::npos);
    p = {};
    p.logit_bias = {{10, 1.0f}};
    EXPECT_NE(message(p).find("logit_bias"), std::string::npos);
    p.logit_bias = {{1, std::nanf("")}};
    EXPECT_NE(message(p).find("logit_bias"), std::string::npos);
    p = {};
    p.temperature = std::nanf("");
    EXPECT_NE(message(p).find("temperature"), std::string::npos);

    Sampler ok(SamplingParams{}, 10);
    std::vector<float> short_logits(9);
    EXPECT_THROW(ok.sample(short_logits), std::invalid_argument);
    EXPECT_THROW(ok.accept(10), std::invalid_argument);
}

TEST(TopLogprobs, MatchesLogSoftmaxInOrder) {
    const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f, -k_inf};
    const auto top = top_logprobs(logits, 3);
    ASSERT_EQ(top.size(), 3u);
    const double lse = std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0));
    EXPECT_EQ(top[0].first, 1);
    EXPECT_EQ(top[1].first, 3);
    EXPECT_EQ(top[2].first, 2);
    EXPECT_NEAR(top[0].second, 3.0 - lse, 1e-6);
    EXPECT_NEAR(top[2].second, 2.0 - lse, 1e-6);

    const auto all = top_logprobs(logits, 100);  // k larger than the vocabulary
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[4].first, 4);
    EXPECT_TRUE(std::isinf(all[4].second) && all[4].second < 0);
    double total = 0.0;
    for (const auto& [id, lp] : all) total += std::exp(static_cast<double>(lp));
    EXPECT_NEAR(total, 1.0, 1e-6);
    EXPECT_TRUE(top_logprobs(logits, 0).empty());
}

}  // namespace
}  // namespace vkllm
