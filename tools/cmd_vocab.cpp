// `vkllm vocab-subset`: a corpus-fitted subset of a Gemma 4 vocabulary as a tokenizer-only GGUF
// (synth/vocab_subset.h), with the corpus's tokens per word before and after.

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "synth/vocab_subset.h"
#include "tools/commands.h"

namespace vkllm::cli {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

size_t count_words(const std::string& text) {
    size_t words = 0;
    bool in_word = false;
    for (char ch : text) {
        const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        words += !space && !in_word ? 1 : 0;
        in_word = !space;
    }
    return words;
}

double per_word(uint64_t tokens, const std::vector<std::string>& corpus) {
    size_t words = 0;
    for (const std::string& text : corpus) words += count_words(text);
    return words == 0 ? 0.0 : static_cast<double>(tokens) / static_cast<double>(words);
}

uint64_t count_tokens(const GgufFile& vocab, const std::vector<std::string>& corpus) {
    const Tokenizer tok = Tokenizer::from_gguf(vocab);
    uint64_t tokens = 0;
    for (const std::string& text : corpus) tokens += tok.encode(text, false, true).size();
    return tokens;
}

}  // namespace

int cmd_vocab_subset(const VocabSubsetArgs& args) {
    const GgufFile full = GgufFile::open(args.from);
    std::vector<std::string> corpus;
    for (const std::string& path : args.corpus) corpus.push_back(read_text(path));
    const synth::VocabSubset subset = synth::choose_vocab_subset(full, corpus, args.n_tokens);
    synth::write_vocab_subset(full, subset, args.out);
    const GgufFile written = GgufFile::open(args.out);
    std::printf("%s: %zu tokens (%zu specials, byte tokens and characters), %zu merges\n",
                args.out.c_str(), subset.kept.size(), subset.n_required, subset.merges.size());
    std::printf("  corpus tokens per word: %.3f with %s, %.3f with the subset\n",
                per_word(subset.n_corpus_tokens_full, corpus), args.from.c_str(),
                per_word(count_tokens(written, corpus), corpus));
    return 0;
}

}  // namespace vkllm::cli
