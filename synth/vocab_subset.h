#pragma once
// A corpus-fitted subset of a BPE vocabulary, written as a tokenizer-only GGUF: the full Gemma 4
// vocabulary's specials and 256 byte tokens, every character the corpus uses, then the tokens
// the corpus uses most (by their count in the full vocabulary's encoding), each with the merge
// parents that build it, until the size is reached. The subset keeps every merge whose parts
// and result it keeps, in the original rank order, so it is itself a valid byte-fallback BPE
// that the Gemma 4 tokenizer loads unchanged: small models get Gemma 4's tokenizer, special
// tokens and chat template with an embedding table sized to what they can train
// (tools/train/README.md measures tokens per word for each choice).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "loader/gguf_file.h"

namespace vkllm::synth {

struct VocabSubset {
    std::vector<int32_t> kept;   // ids of the full vocabulary, ascending; new id = index
    std::vector<size_t> merges;  // indices into the full merge list of the merges kept, ascending
    size_t n_required = 0;       // specials, byte tokens and the corpus's characters
    uint64_t n_corpus_tokens_full = 0;  // the corpus's tokens in the full vocabulary
};

// Chooses `n_tokens` tokens of `full` (a GGUF with a Gemma 4 tokenizer) for `corpus`. Throws
// std::invalid_argument when n_tokens cannot hold the required tokens or exceeds the
// vocabulary, ModelFileError for a bad tokenizer.
VocabSubset choose_vocab_subset(const GgufFile& full, std::span<const std::string> corpus,
                                uint32_t n_tokens);

// Writes the tokenizer.* keys of `full` restricted to `subset` (token arrays filtered, merges
// filtered, special-token ids renumbered; every other key copied) as a GGUF without tensors.
void write_vocab_subset(const GgufFile& full, const VocabSubset& subset,
                        const std::filesystem::path& out);

}  // namespace vkllm::synth
