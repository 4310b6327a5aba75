#pragma once
// The unit of work a model step takes (docs/design/forward.md "Steps"): plain values with no
// Vulkan, shared by Gemma4Model, the generation loop and the server's BatchModel interface.

#include <cstdint>
#include <span>
#include <stdexcept>

namespace vkllm {

// The request does not fit the context: names both token counts.
class ContextOverflowError : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

// Which logits a step entry returns.
enum class LogitsWanted : uint8_t {
    None,  // e.g. a prefill chunk that is not the prompt's last
    Last,  // after the entry's last token (prefill end, decode)
    All,   // after every token (speculative verification, scoring)
};

// One sequence's part of a step: its next tokens, appended at positions seq_length(seq)... A
// prefill chunk, one decode token and a multi-token verify run are all just entries.
struct StepEntry {
    uint32_t seq = 0;
    std::span<const int32_t> tokens;
    LogitsWanted logits = LogitsWanted::Last;
};

// One decode token of one sequence.
struct SeqToken {
    uint32_t seq = 0;
    int32_t token = 0;
};

// Logit columns an entry of `n` tokens returns.
inline uint32_t logit_count(LogitsWanted wanted, uint32_t n) {
    return wanted == LogitsWanted::All ? n : wanted == LogitsWanted::Last ? 1u : 0u;
}

}  // namespace vkllm
