#pragma once
// The single-sequence generation loop: prefill the prompt (only the part the KV cache does not
// already hold), then sample and decode one token at a time, streaming valid UTF-8 text to a
// callback, until an end-of-generation token, a stop string, max_tokens or a full context.
//
// A Generator remembers which tokens its sequence holds, so a chat turn whose rendered prompt
// extends the previous conversation only prefills the new suffix. When the new prompt diverges
// (the template re-renders the last answer differently), the cache is cut back to the common
// prefix and the rest is prefilled.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/tokenizer.h"
#include "runtime/generate/sampler.h"
#include "runtime/generate/sequence_model.h"

namespace vkllm {

struct GenerationParams {
    int32_t max_tokens = -1;        // < 0: until end of generation or a full context
    std::vector<std::string> stop;  // stop strings; the text before the first one is kept
    bool ignore_eos = false;        // bans the end-of-generation tokens instead of stopping
    SamplingParams sampling;
};

// Why a generation ended; one type for the CLI loop and the server engine. The loop ends with
// Stop or Length; the server also with Cancelled (client gone, shutdown) or Error (model failure);
// None marks a server event that is not the last.
enum class Finish { None, Stop, Length, Cancelled, Error };
// "stop", "length", "cancelled", "error", "none" ("stop" / "length" as in the OpenAI API).
const char* finish_name(Finish finish);

struct GenerationTiming {
    uint32_t prompt_tokens = 0;
    uint32_t reused_tokens = 0;   // prompt tokens already in the KV cache
    uint32_t prefill_tokens = 0;  // prompt tokens actually prefilled
    double prefill_seconds = 0.0;
    uint32_t decode_tokens = 0;   // single-token decode steps
    double decode_seconds = 0.0;  // decode steps plus sampling and detokenizing between them

    double prefill_tokens_per_second() const;
    double decode_tokens_per_second() const;
};

struct GenerationResult {
    std::vector<int32_t> tokens;  // generated, without a final end-of-generation token
    std::string text;             // everything passed to the callback
    Finish finish = Finish::Length;
    GenerationTiming timing;
};

using TextSink = std::function<void(std::string_view)>;

// How many leading prompt tokens can stay in a cache holding `cached`: the common prefix, but
// never the whole prompt, because the last prompt token must be run to get logits.
size_t reusable_prefix(std::span<const int32_t> cached, std::span<const int32_t> prompt);

class Generator {
  public:
    // Borrows both; they must outlive the generator. The sequence must be empty or hold exactly
    // what this generator put there.
    Generator(SequenceModel& model, const Tokenizer& tokenizer);

    // Throws std::invalid_argument for an empty prompt or bad parameters (naming the field),
    // ContextOverflowError when the prompt does not fit the context (nothing is changed).
    GenerationResult generate(std::span<const int32_t> prompt, const GenerationParams& params,
                              const TextSink& on_text = {});

    // Tokens the KV cache holds: the last prompt plus the generated tokens that were fed back.
    const std::vector<int32_t>& cached_tokens() const { return cached_; }
    // Empties the sequence.
    void reset();

  private:
    void prefill_prompt(std::span<const int32_t> prompt, GenerationResult& result,
                        std::vector<float>& logits);

    SequenceModel* model_;
    const Tokenizer* tokenizer_;
    std::vector<int32_t> cached_;
};

}  // namespace vkllm
