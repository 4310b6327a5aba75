#pragma once
// Token sampling from a logit vector (llama.cpp's sampler chain order): logit bias -> penalties
// (repetition over the last repeat_last_n tokens, presence, frequency) -> greedy when
// temperature <= 0, else top-k -> top-p -> min-p -> temperature -> a seeded draw.
// The same seed and the same logits give the same tokens on every machine (own PRNG, no
// std::*_distribution, and every sum runs in an order fixed by the logits, never by the standard
// library's selection algorithm).

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vkllm {

struct SamplingParams {
    float temperature = 0.8f;     // <= 0: greedy
    int32_t top_k = 40;           // <= 0: off
    float top_p = 0.95f;          // >= 1: off
    float min_p = 0.05f;          // <= 0: off
    float repeat_penalty = 1.0f;  // 1: off
    int32_t repeat_last_n = 64;   // 0: penalties off
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit; -inf bans
    uint64_t seed = 0;
};

class Sampler {
  public:
    // Throws std::invalid_argument naming the field for a value out of range (negative
    // temperature, top_p outside (0, 1], a bias token outside the vocabulary, ...).
    Sampler(const SamplingParams& params, uint32_t n_vocab);

    // Picks the next token from `logits` (n_vocab values; used as scratch) and records it in the
    // penalty history. Throws std::invalid_argument for a wrong length and std::runtime_error when
    // every token is banned (all logits -inf).
    int32_t sample(std::span<float> logits);
    // Records a token that was not sampled (the prompt) in the penalty history.
    void accept(int32_t token);
    // Clears the history and restarts the random stream from the seed.
    void reset();

    const SamplingParams& params() const { return params_; }

    struct Candidate {
        int32_t id;
        float logit;
    };

  private:
    void apply_bias_and_penalties(std::span<float> logits) const;
    static int32_t argmax(std::span<const float> logits);
    int32_t sample_random(std::span<const float> logits);
    // Fills candidates_ with the top_k best tokens, best first (returns their count), or with
    // every finite token in id order when top_k is off (returns 0: nothing sorted).
    size_t collect_candidates(std::span<const float> logits);
    // Cuts candidates_ to the smallest most-likely-first set holding top_p of the probability
    // mass. `sorted`: how many candidates are already in order (all after top-k, else none, and
    // then only the few near the cut are sorted, not 262k).
    void apply_top_p(float max_logit, size_t sorted);
    void apply_top_p_unsorted(float max_logit);
    int32_t draw(float max_logit);
    uint64_t next_random();

    SamplingParams params_;
    uint32_t n_vocab_;
    uint64_t rng_state_;
    std::vector<int32_t> history_;       // oldest first, at most repeat_last_n tokens
    std::vector<uint32_t> counts_;       // occurrences per token in history_ (presence/frequency)
    std::vector<Candidate> candidates_;  // scratch, kept to avoid a 2 MB allocation per token
};

// The `k` most likely tokens and their log-softmax values, most likely first (ties: lower id).
std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, uint32_t k);

}  // namespace vkllm
