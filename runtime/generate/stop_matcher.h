#pragma once
// Streaming stop-string matcher. Generated text arrives in pieces (one token's text at a time);
// a stop string may be split across pieces, so the tail of the text that could still be the start
// of a stop string is held back until the next piece decides it. Text before a stop string is
// released, the stop string itself and anything after it never is.
//
// Pieces are expected to be valid UTF-8 (Detokenizer output); the held-back tail always starts on
// a character boundary, so every released chunk is valid UTF-8 too.

#include <string>
#include <string_view>
#include <vector>

namespace vkllm {

class StopMatcher {
  public:
    // Empty stop strings are rejected (std::invalid_argument naming the index): they would match
    // before any text.
    explicit StopMatcher(std::vector<std::string> stops);

    struct Step {
        std::string text;      // safe to emit now
        bool stopped = false;  // a stop string was completed; `text` is what preceded it
    };
    // Adds a piece. After a stop every further push returns nothing.
    Step push(std::string_view piece);
    // End of stream without a stop: releases the held-back tail.
    std::string flush();
    void reset();

    bool stopped() const { return stopped_; }
    // Bytes currently held back.
    size_t held_bytes() const { return pending_.size(); }

  private:
    // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
    size_t partial_match_length() const;

    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

}  // namespace vkllm
