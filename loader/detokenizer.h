#pragma once
// Streaming detokenizer: turns generated ids into text one token at a time, and only ever emits
// valid UTF-8 (gemma4-model.md §5.4).
//
// A character can be split across tokens: byte-fallback tokens (<0xE4><0xBD><0xA0>) each carry one
// byte of it. push() holds back a trailing incomplete-but-valid UTF-8 prefix (at most 3 bytes)
// until the tokens that complete it arrive. Bytes that can never become valid UTF-8 are replaced
// with U+FFFD, one per byte, as soon as that is known; flush() replaces a still-incomplete tail.
// Concatenating every push() and the final flush() equals Tokenizer::decode() whenever the
// decoded bytes are valid UTF-8.

#include <cstdint>
#include <string>

#include "loader/tokenizer.h"

namespace vkllm {

class Detokenizer {
  public:
    // Borrows `tokenizer`, which must outlive this object. `skip_special` as in Tokenizer::decode.
    explicit Detokenizer(const Tokenizer& tokenizer, bool skip_special = true)
        : tokenizer_(&tokenizer), skip_special_(skip_special) {}

    // Adds one token; returns the text that is now complete (possibly empty), valid UTF-8.
    std::string push(int32_t id);
    // Ends the stream: returns U+FFFD for a held-back incomplete sequence (or ""), and resets.
    std::string flush();
    // Drops held-back bytes, e.g. when a request is cancelled or the sequence is rolled back.
    void reset() { pending_.clear(); }
    // Bytes held back waiting for the rest of a character (0..3).
    size_t pending_bytes() const { return pending_.size(); }

  private:
    const Tokenizer* tokenizer_;
    bool skip_special_;
    std::string pending_;
};

}  // namespace vkllm
