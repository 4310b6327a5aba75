#include "runtime/generate/generation.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "loader/detokenizer.h"
#include "runtime/generate/stop_matcher.h"
#include "runtime/model/step_entry.h"

namespace vkllm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double rate(uint32_t tokens, double seconds) {
    return seconds > 0.0 ? static_cast<double>(tokens) / seconds : 0.0;
}

// ignore_eos follows llama.cpp: the end-of-generation tokens are banned rather than skipped, so
// the model never spends a step on one.
SamplingParams effective_sampling(const GenerationParams& params, const Tokenizer& tokenizer,
                                  uint32_t n_vocab) {
    SamplingParams s = params.sampling;
    if (params.ignore_eos) {
        for (int32_t id : tokenizer.eog_ids()) {
            if (static_cast<uint32_t>(id) >= n_vocab) continue;
            s.logit_bias.emplace_back(id, -std::numeric_limits<float>::infinity());
        }
    }
    return s;
}

}  // namespace

const char* finish_name(Finish finish) {
    switch (finish) {
        case Finish::Stop:
            return "stop";
        case Finish::Length:
            return "length";
        case Finish::Cancelled:
            return "cancelled";
        case Finish::Error:
            return "error";
        case Finish::None:
            break;
    }
    return "none";
}

double GenerationTiming::prefill_tokens_per_second() const {
    return rate(prefill_tokens, prefill_seconds);
}

double GenerationTiming::decode_tokens_per_second() const {
    return rate(decode_tokens, decode_seconds);
}

size_t reusable_prefix(std::span<const int32_t> cached, std::span<const int32_t> prompt) {
    const auto mismatch = std::mismatch(cached.begin(), cached.end(), prompt.begin(), prompt.end());
    const auto common = static_cast<size_t>(mismatch.first - cached.begin());
    return prompt.empty() ? 0 : std::min(common, prompt.size() - 1);
}

Generator::Generator(SequenceModel& model, const Tokenizer& tokenizer)
    : model_(&model), tokenizer_(&tokenizer) {
    if (model_->length() != 0) model_->truncate(0);
}

void Generator::reset() {
    model_->truncate(0);
    cached_.clear();
}

void Generator::prefill_prompt(std::span<const int32_t> prompt, GenerationResult& result,
                               std::vector<float>& logits) {
    const size_t keep = reusable_prefix(cached_, prompt);
    size_t kept = keep;
    if (keep < cached_.size()) kept = model_->truncate(static_cast<uint32_t>(keep));
    cached_.resize(kept);

    const auto t0 = Clock::now();
    const std::span<const int32_t> rest = prompt.subspan(kept);
    logits = model_->prefill(rest);
    cached_.insert(cached_.end(), rest.begin(), rest.end());

    GenerationTiming& t = result.timing;
    t.prompt_tokens = static_cast<uint32_t>(prompt.size());
    t.reused_tokens = static_cast<uint32_t>(kept);
    t.prefill_tokens = static_cast<uint32_t>(rest.size());
    t.prefill_seconds = seconds_since(t0);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt,
                                     const GenerationParams& params, const TextSink& on_text) {
    if (prompt.empty()) throw std::invalid_argument("prompt: empty (no tokens)");
    const uint32_t n_ctx = model_->n_ctx();
    if (prompt.size() > n_ctx) {
        throw ContextOverflowError("prompt: " + std::to_string(prompt.size()) +
                                   " tokens do not fit the context of " + std::to_string(n_ctx) +
                                   " tokens");
    }
    const uint32_t n_vocab = model_->n_vocab();
    Sampler sampler(effective_sampling(params, *tokenizer_, n_vocab), n_vocab);
    StopMatcher stops(params.stop);
    Detokenizer detokenizer(*tokenizer_);
    // Penalties look back over the prompt too, as llama.cpp's do.
    const size_t window = static_cast<size_t>(params.sampling.repeat_last_n);
    for (size_t i = prompt.size() - std::min(window, prompt.size()); i < prompt.size(); ++i) {
        sampler.accept(prompt[i]);
    }

    GenerationResult result;
    std::vector<float> logits;
    prefill_prompt(prompt, result, logits);

    const auto emit = [&](const std::string& text) {
        if (text.empty()) return;
        result.text += text;
        if (on_text) on_text(text);
    };
    const auto t_decode = Clock::now();
    const auto limit = params.max_tokens < 0 ? std::numeric_limits<size_t>::max()
                                             : static_cast<size_t>(params.max_tokens);
    bool stopped = false;
    while (result.tokens.size() < limit) {
        const int32_t token = sampler.sample(logits);
        if (tokenizer_->is_eog(token)) {
            stopped = true;
            break;
        }
        result.tokens.push_back(token);
        StopMatcher::Step step = stops.push(detokenizer.push(token));
        emit(step.text);
        if (step.stopped) {
            stopped = true;
            break;
        }
        if (result.tokens.size() >= limit || cached_.size() >= n_ctx) break;
        logits = model_->decode(token);
        cached_.push_back(token);
        ++result.timing.decode_tokens;
    }
    result.timing.decode_seconds = seconds_since(t_decode);

    if (!stops.stopped()) {
        StopMatcher::Step tail = stops.push(detokenizer.flush());
        emit(tail.text);
        stopped = stopped || tail.stopped;
        emit(stops.flush());
    }
    result.finish = stopped ? Finish::Stop : Finish::Length;
    return result;
}

}  // namespace vkllm
