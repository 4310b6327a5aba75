#include "runtime/generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace vkllm {
namespace {

constexpr float k_neg_inf = -std::numeric_limits<float>::infinity();

// NaN would break the strict ordering the selection algorithms need; it ranks as -inf.
float rank_key(float logit) {
    return std::isnan(logit) ? k_neg_inf : logit;
}

void require(bool ok, const std::string& field, const std::string& problem) {
    if (!ok) throw std::invalid_argument("[sampler] " + field + ": " + problem);
}

std::string show(double v) {
    return std::to_string(v);
}

void validate(const SamplingParams& p, uint32_t n_vocab) {
    require(n_vocab > 0, "n_vocab", "the vocabulary is empty");
    require(p.temperature >= 0.0f && std::isfinite(p.temperature), "temperature",
            "must be a finite number >= 0, got " + show(p.temperature));
    require(p.top_p > 0.0f && p.top_p <= 1.0f, "top_p", "must be in (0, 1], got " + show(p.top_p));
    require(p.min_p >= 0.0f && p.min_p <= 1.0f, "min_p", "must be in [0, 1], got " + show(p.min_p));
    require(p.repeat_penalty > 0.0f && std::isfinite(p.repeat_penalty), "repeat_penalty",
            "must be a finite number > 0, got " + show(p.repeat_penalty));
    require(p.repeat_last_n >= 0, "repeat_last_n",
            "must be >= 0, got " + std::to_string(p.repeat_last_n));
    require(std::isfinite(p.presence_penalty), "presence_penalty", "must be finite");
    require(std::isfinite(p.frequency_penalty), "frequency_penalty", "must be finite");
    for (const auto& [token, bias] : p.logit_bias) {
        require(token >= 0 && static_cast<uint32_t>(token) < n_vocab, "logit_bias",
                "token " + std::to_string(token) + " is outside the vocabulary (" +
                    std::to_string(n_vocab) + " tokens)");
        require(!std::isnan(bias) && bias != std::numeric_limits<float>::infinity(), "logit_bias",
                "bias of token " + std::to_string(token) + " must be a number or -inf");
    }
}

// The strict order every selection uses: higher logit first, lower id on ties.
bool better(const Sampler::Candidate& a, const Sampler::Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Unnormalised probability at temperature 1.
double weight(const Sampler::Candidate& c, float max_logit) {
    return static_cast<double>(std::exp(c.logit - max_logit));
}

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, trivially portable.
uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, uint32_t n_vocab)
    : params_(params), n_vocab_(n_vocab), rng_state_(params.seed) {
    validate(params_, n_vocab_);
    counts_.assign(n_vocab_, 0);
}

void Sampler::reset() {
    history_.clear();
    std::fill(counts_.begin(), counts_.end(), 0u);
    rng_state_ = params_.seed;
}

void Sampler::accept(int32_t token) {
    if (token < 0 || static_cast<uint32_t>(token) >= n_vocab_) {
        throw std::invalid_argument("[sampler] token " + std::to_string(token) +
                                    " is outside the vocabulary");
    }
    const size_t window = static_cast<size_t>(params_.repeat_last_n);
    if (window == 0) return;
    // The window is small (64 by default), so dropping the oldest by shifting is cheaper than
    // the bookkeeping of a ring.
    if (history_.size() == window) {
        --counts_[static_cast<size_t>(history_.front())];
        history_.erase(history_.begin());
    }
    history_.push_back(token);
    ++counts_[static_cast<size_t>(token)];
}

uint64_t Sampler::next_random() {
    return splitmix64(rng_state_);
}

void Sampler::apply_bias_and_penalties(std::span<float> logits) const {
    for (const auto& [token, bias] : params_.logit_bias) logits[static_cast<size_t>(token)] += bias;
    if (history_.empty()) return;
    const bool repeat = params_.repeat_penalty != 1.0f;
    if (!repeat && params_.presence_penalty == 0.0f && params_.frequency_penalty == 0.0f) return;
    std::vector<int32_t> distinct = history_;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int32_t token : distinct) {
        float& l = logits[static_cast<size_t>(token)];
        // CTRL-style: divide a positive logit, multiply a negative one, so the token always
        // becomes less likely.
        if (repeat) l = l > 0.0f ? l / params_.repeat_penalty : l * params_.repeat_penalty;
        const auto count = static_cast<float>(counts_[static_cast<size_t>(token)]);
        l -= count * params_.frequency_penalty + params_.presence_penalty;
    }
}

int32_t Sampler::sample(std::span<float> logits) {
    if (logits.size() != n_vocab_) {
        throw std::invalid_argument("[sampler] logits: expected " + std::to_string(n_vocab_) +
                                    " values, got " + std::to_string(logits.size()));
    }
    apply_bias_and_penalties(logits);
    const int32_t token = params_.temperature > 0.0f ? sample_random(logits) : argmax(logits);
    accept(token);
    return token;
}

int32_t Sampler::argmax(std::span<const float> logits) {
    float best_logit = k_neg_inf;
    int32_t best = -1;
    for (size_t i = 0; i < logits.size(); ++i) {
        if (logits[i] > best_logit) {  // strict: the lowest id wins a tie; NaN never wins
            best_logit = logits[i];
            best = static_cast<int32_t>(i);
        }
    }
    if (best < 0) throw std::runtime_error("[sampler] every token is banned (all logits are -inf)");
    return best;
}

size_t Sampler::collect_candidates(std::span<const float> logits) {
    candidates_.clear();
    const auto k = static_cast<size_t>(std::max(params_.top_k, 0));
    if (k == 0 || k >= logits.size()) {
        for (size_t i = 0; i < logits.size(); ++i) {
            if (logits[i] > k_neg_inf) candidates_.push_back({static_cast<int32_t>(i), logits[i]});
        }
        return 0;
    }
    // A heap of the k best so far with the worst on top: one comparison rejects almost every
    // token, so this is a single pass instead of a selection over 262k candidates.
    for (size_t i = 0; i < logits.size(); ++i) {
        const Candidate c{static_cast<int32_t>(i), logits[i]};
        if (!(c.logit > k_neg_inf)) continue;
        if (candidates_.size() < k) {
            candidates_.push_back(c);
            std::push_heap(candidates_.begin(), candidates_.end(), better);
        } else if (better(c, candidates_.front())) {
            std::pop_heap(candidates_.begin(), candidates_.end(), better);
            candidates_.back() = c;
            std::push_heap(candidates_.begin(), candidates_.end(), better);
        }
    }
    std::sort_heap(candidates_.begin(), candidates_.end(), better);  // best first
    return candidates_.size();
}

int32_t Sampler::sample_random(std::span<const float> logits) {
    const size_t sorted = collect_candidates(logits);
    if (candidates_.empty()) {
        throw std::runtime_error("[sampler] every token is banned (all logits are -inf)");
    }
    float max_logit = candidates_.front().logit;
    if (sorted == 0) {
        for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    }
    if (params_.top_p < 1.0f) apply_top_p(max_logit, sorted);
    if (params_.min_p > 0.0f) {
        // p_i >= min_p * p_max  <=>  logit_i - max_logit >= log(min_p)
        const float floor = std::log(params_.min_p);
        std::erase_if(candidates_, [&](const Candidate& c) { return c.logit - max_logit < floor; });
    }
    return draw(max_logit);
}

void Sampler::apply_top_p(float max_logit, size_t sorted) {
    const auto top_p = static_cast<double>(params_.top_p);
    if (sorted == candidates_.size()) {
        double total = 0.0;
        for (const Candidate& c : candidates_) total += weight(c, max_logit);
        const double target = top_p * total;
        double cumulative = 0.0;
        for (size_t i = 0; i < candidates_.size(); ++i) {
            cumulative += weight(candidates_[i], max_logit);
            if (cumulative >= target) {
                candidates_.resize(i + 1);
                return;
            }
        }
        return;  // rounding left the sum just short of the target: keep all
    }
    apply_top_p_unsorted(max_logit);
}

void Sampler::apply_top_p_unsorted(float max_logit) {
    // No top-k: bucket the candidates by distance below the max, find the bucket where
    // the mass crosses the target, and order only that bucket's members.
    constexpr size_t k_buckets = 4096;
    constexpr float k_span = 32.0f;  // tokens further below the max share the last bucket
    const auto bucket_of = [max_logit](const Candidate& c) {
        const float below = max_logit - c.logit;
        if (!(below < k_span)) return k_buckets - 1;
        return std::min(k_buckets - 1, static_cast<size_t>(below * (k_buckets / k_span)));
    };
    std::vector<double> mass(k_buckets, 0.0);
    double total = 0.0;
    for (const Candidate& c : candidates_) {
        const double w = weight(c, max_logit);
        mass[bucket_of(c)] += w;
        total += w;
    }
    const double target = static_cast<double>(params_.top_p) * total;
    double before = 0.0;
    size_t edge_bucket = 0;
    while (edge_bucket + 1 < k_buckets && before + mass[edge_bucket] < target) {
        before += mass[edge_bucket++];
    }
    std::vector<Candidate> edge;
    for (const Candidate& c : candidates_) {
        if (bucket_of(c) == edge_bucket) edge.push_back(c);
    }
    if (edge.empty()) return;
    std::sort(edge.begin(), edge.end(), better);
    Candidate last = edge.back();
    for (const Candidate& c : edge) {
        before += weight(c, max_logit);
        if (before >= target) {
            last = c;
            break;
        }
    }
    std::erase_if(candidates_, [&](const Candidate& c) {
        const size_t b = bucket_of(c);
        return b > edge_bucket || (b == edge_bucket && better(last, c));
    });
}

int32_t Sampler::draw(float max_logit) {
    const float inv_temp = 1.0f / params_.temperature;
    double total = 0.0;
    // The logits are not needed after this, so each candidate keeps its weight in their place.
    for (Candidate& c : candidates_) {
        c.logit = std::exp((c.logit - max_logit) * inv_temp);
        total += static_cast<double>(c.logit);
    }
    // 53 random bits -> a double uniform in [0, 1).
    const double u = static_cast<double>(next_random() >> 11) * 0x1.0p-53;
    const double target = u * total;
    double cumulative = 0.0;
    for (const Candidate& c : candidates_) {
        cumulative += static_cast<double>(c.logit);
        if (cumulative > target) return c.id;
    }
    return candidates_.back().id;
}

std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, uint32_t k) {
    const size_t n = logits.size();
    const size_t keep = std::min<size_t>(k, n);
    if (keep == 0) return {};
    float max_logit = k_neg_inf;
    for (float l : logits) max_logit = std::max(max_logit, rank_key(l));
    double sum = 0.0;
    if (max_logit > k_neg_inf) {
        for (float l : logits) sum += std::exp(static_cast<double>(rank_key(l) - max_logit));
    }
    // log-softmax = logit - (max + log(sum)); all -inf when nothing is finite.
    const double log_norm = max_logit > k_neg_inf ? static_cast<double>(max_logit) + std::log(sum)
                                                  : std::numeric_limits<double>::infinity();

    std::vector<int32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(keep), ids.end(),
                      [&](int32_t a, int32_t b) {
                          const float la = rank_key(logits[static_cast<size_t>(a)]);
                          const float lb = rank_key(logits[static_cast<size_t>(b)]);
                          return la > lb || (la == lb && a < b);
                      });
    std::vector<std::pair<int32_t, float>> out;
    out.reserve(keep);
    for (size_t i = 0; i < keep; ++i) {
        const float l = rank_key(logits[static_cast<size_t>(ids[i])]);
        out.emplace_back(ids[i], static_cast<float>(static_cast<double>(l) - log_norm));
    }
    return out;
}

}  // namespace vkllm
