#include "synth/synth_vocab.h"

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/model_file_error.h"
#include "loader/tokenizer.h"

namespace vkllm::synth {
namespace {

struct Special {
    const char* text;
    TokenType type;
};

// The tiny fixtures' special block; USER_DEFINED where gemma4-model.md §5.1 forces it.
constexpr Special k_specials[] = {
    {"<pad>", TokenType::Control},
    {"<eos>", TokenType::Control},
    {"<bos>", TokenType::Control},
    {"<unk>", TokenType::Control},
    {"<|tool>", TokenType::Control},
    {"<tool|>", TokenType::Control},
    {"<|tool_call>", TokenType::UserDefined},
    {"<tool_call|>", TokenType::UserDefined},
    {"<|tool_response>", TokenType::UserDefined},
    {"<tool_response|>", TokenType::UserDefined},
    {"<|\"|>", TokenType::UserDefined},
    {"<|think|>", TokenType::Control},
    {"<|channel>", TokenType::UserDefined},
    {"<channel|>", TokenType::UserDefined},
    {"<|turn>", TokenType::Control},
    {"<turn|>", TokenType::Control},
};

constexpr const char* k_space = "\xE2\x96\x81";  // U+2581, the vocabulary's space

class VocabBuilder {
  public:
    explicit VocabBuilder(uint32_t n_vocab) : n_vocab_(n_vocab) {}

    bool full() const { return tokens_.size() >= n_vocab_; }
    void add(std::string text, TokenType type) {
        if (full()) return;
        tokens_.push_back(std::move(text));
        types_.push_back(static_cast<int32_t>(type));
    }
    void add_merge(const std::string& left, const std::string& right) {
        if (full()) return;
        merges_.push_back(left + " " + right);
        add(left + right, TokenType::Normal);
    }
    void write(GgufWriter& w) const {
        const std::vector<float> scores(tokens_.size(), -1000.0f);
        w.add_string("tokenizer.ggml.model", "gemma4");
        w.add_string("tokenizer.ggml.pre", "gemma4");
        w.add_array("tokenizer.ggml.tokens", GgufWriteArray::of_strings(std::span(tokens_)));
        w.add_array("tokenizer.ggml.scores", GgufWriteArray::of(std::span(scores)));
        w.add_array("tokenizer.ggml.token_type", GgufWriteArray::of(std::span(types_)));
        w.add_array("tokenizer.ggml.merges", GgufWriteArray::of_strings(std::span(merges_)));
        w.add_u32("tokenizer.ggml.bos_token_id", 2);
        w.add_u32("tokenizer.ggml.eos_token_id", 1);
        w.add_u32("tokenizer.ggml.unknown_token_id", 3);
        w.add_u32("tokenizer.ggml.padding_token_id", 0);
        w.add_bool("tokenizer.ggml.add_bos_token", true);
        w.add_bool("tokenizer.ggml.add_space_prefix", false);
    }

  private:
    uint32_t n_vocab_;
    std::vector<std::string> tokens_;
    std::vector<int32_t> types_;
    std::vector<std::string> merges_;
};

}  // namespace

void add_generated_vocab(GgufWriter& writer, uint32_t n_vocab) {
    if (n_vocab < k_min_generated_vocab) {
        throw std::invalid_argument("[synth] a generated vocabulary needs at least " +
                                    std::to_string(k_min_generated_vocab) +
                                    " tokens (16 specials + 256 bytes); asked for " +
                                    std::to_string(n_vocab));
    }
    VocabBuilder v(n_vocab);
    for (const Special& s : k_specials) v.add(s.text, s.type);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        v.add(name, TokenType::Byte);
    }
    v.add("\n", TokenType::Normal);
    v.add(k_space, TokenType::Normal);
    for (char c = '!'; c <= '~'; ++c) v.add(std::string(1, c), TokenType::Normal);
    for (char c = 'a'; c <= 'z'; ++c) v.add_merge(k_space, std::string(1, c));
    for (char a = 'a'; a <= 'z'; ++a) {
        for (char b = 'a'; b <= 'z'; ++b) v.add_merge(std::string(1, a), std::string(1, b));
    }
    for (uint32_t i = 0; !v.full(); ++i)
        v.add("<unused" + std::to_string(i) + ">", TokenType::Unused);
    v.write(writer);
}

uint32_t vocab_size_of(const GgufFile& source) {
    const GgufValue* t = source.find("tokenizer.ggml.tokens");
    if (t == nullptr || !t->is_array() || t->elem_type != GgufValueType::STRING || t->count == 0 ||
        t->count > UINT32_MAX) {
        throw ModelFileError(source.name(),
                             "has no usable tokenizer.ggml.tokens array: --vocab needs a GGUF "
                             "with a tokenizer (a model or vocab-gemma4.gguf)");
    }
    return static_cast<uint32_t>(t->count);
}

void copy_vocab(GgufWriter& writer, const GgufFile& source) {
    for (const GgufKv& kv : source.metadata()) {
        if (kv.key.rfind("tokenizer.", 0) == 0) writer.add_value(kv.key, kv.value);
    }
}

}  // namespace vkllm::synth
