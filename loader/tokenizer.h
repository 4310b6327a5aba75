#pragma once
// Gemma 4 tokenizer (gemma4-model.md §5.1–5.4): byte-fallback BPE over the GGUF vocabulary.
//
// Encoding: special/user-defined token split -> ' ' becomes U+2581 -> split into newline runs and
// non-newline runs -> BPE per run (lowest merge rank first, leftmost on ties) -> byte fallback
// `<0xHH>` for symbols that are not tokens. Decoding: NORMAL tokens with U+2581 turned back into
// spaces, BYTE tokens as their byte, USER_DEFINED as is, CONTROL/UNKNOWN/UNUSED only on request.
//
// A Tokenizer owns copies of the token texts (one contiguous arena, ~3 MB for 262k tokens), so it
// does not borrow the GgufFile it was loaded from. Merges are kept as (left id, right id) -> rank.
//
// Input bytes need not be valid UTF-8: an invalid byte is its own BPE symbol and falls back to its
// `<0xHH>` token, so decode(encode(bytes)) == bytes for any input. See docs/design/tokenizer.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/gguf_file.h"

namespace vkllm {

// tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

class Tokenizer {
  public:
    // Move-only: the lookup tables hold views into the owned text arena.
    Tokenizer(Tokenizer&&) noexcept = default;
    Tokenizer& operator=(Tokenizer&&) noexcept = default;
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Reads tokenizer.ggml.* from `file`. Throws ModelFileError naming the key when the tokenizer
    // model is not "gemma4", a required key is missing or has the wrong type, array lengths
    // disagree, or a special-token id is out of range.
    static Tokenizer from_gguf(const GgufFile& file);

    // Text to ids. `add_bos` prepends bos() (once; a literal "<bos>" in the text is a second one
    // when parse_special is set). `parse_special` matches CONTROL/UNKNOWN token texts such as
    // "<|turn>"; USER_DEFINED texts ("<|channel>", "<|\"|>", ...) are matched either way.
    std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

    // The vocabulary text of `id` (U+2581 kept, "<0x0A>" for byte tokens). Throws
    // std::out_of_range for an id outside [0, vocab_size()).
    std::string_view token_text(int32_t id) const;
    TokenType token_type(int32_t id) const;
    // The id whose text is exactly `text`.
    std::optional<int32_t> find_token(std::string_view text) const;

    // Appends the bytes `id` decodes to. With `skip_special`, CONTROL, UNKNOWN and UNUSED tokens
    // produce nothing; otherwise their text. Byte tokens may produce partial UTF-8 sequences.
    void append_piece(int32_t id, bool skip_special, std::string& out) const;
    // Plain concatenation of the pieces (no space clean-up). May be invalid UTF-8 if the ids split
    // a character; use Detokenizer for streaming output that must be valid UTF-8.
    std::string decode(std::span<const int32_t> ids, bool skip_special = true) const;

    int32_t bos() const { return bos_; }
    int32_t eos() const { return eos_; }
    std::optional<int32_t> pad() const { return pad_; }
    std::optional<int32_t> unk() const { return unk_; }
    // "<|turn>" and "<turn|>", if the vocabulary has them.
    std::optional<int32_t> start_of_turn() const { return start_of_turn_; }
    std::optional<int32_t> end_of_turn() const { return end_of_turn_; }
    // End of generation: eos, "<eos>", "<turn|>", "<|tool_response>" (those present).
    bool is_eog(int32_t id) const;
    const std::vector<int32_t>& eog_ids() const { return eog_ids_; }

    size_t vocab_size() const { return offsets_.size() - 1; }
    size_t merge_count() const { return n_merges_; }
    // tokenizer.chat_template, empty if the file has none.
    const std::string& chat_template() const { return chat_template_; }

  private:
    // One special-token candidate for the split pass, longest text first.
    struct SpecialToken {
        std::string_view text;
        int32_t id;
        bool needs_parse_special;  // CONTROL/UNKNOWN; USER_DEFINED is always matched
    };
    // Open-addressing map from (left id, right id) to merge rank and merged id.
    struct MergeTable {
        struct Slot {
            uint64_t key;
            int32_t rank;
            int32_t result;
        };
        static constexpr uint64_t k_empty = ~uint64_t{0};
        std::vector<Slot> slots;
        uint64_t mask = 0;

        void reserve(size_t n);
        // Keeps the lowest rank if the pair repeats.
        void insert(int32_t left, int32_t right, int32_t rank, int32_t result);
        const Slot* find(int32_t left, int32_t right) const;
    };

    Tokenizer() = default;
    // FNV-1a over `a` then `b` (so a split text hashes like the whole), then a finaliser.
    static uint64_t text_hash(std::string_view a, std::string_view b = {});
    // The id whose text is `a` followed by `b`, without building the joined string.
    std::optional<int32_t> find_joined(std::string_view a, std::string_view b) const;
    std::string_view text_at(size_t i) const {
        return {arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]};
    }
    void load_vocab(const GgufFile& file);
    void load_merges(const GgufFile& file);
    void load_special_ids(const GgufFile& file);
    void check_id(const GgufFile& file, std::string_view key, int64_t id) const;

    // Encoding stages (tokenizer_encode.cpp).
    void encode_fragment(std::string_view text, std::vector<int32_t>& out) const;
    void encode_run(std::string_view run, std::vector<int32_t>& out) const;
    void emit_symbol(std::string_view text, int32_t id, std::vector<int32_t>& out) const;

    std::vector<char> arena_;        // all token texts, back to back
    std::vector<uint32_t> offsets_;  // text of id i is arena_[offsets_[i], offsets_[i+1])
    std::vector<TokenType> types_;
    // Open-addressing text -> id index; slot ids point back into arena_ for the comparison.
    struct TextSlot {
        uint32_t hash;  // low bits of the text hash, to skip most full comparisons
        int32_t id;     // -1: empty
    };
    std::vector<TextSlot> text_slots_;
    uint64_t text_mask_ = 0;
    MergeTable merges_;
    size_t n_merges_ = 0;
    std::vector<SpecialToken> specials_;
    std::array<int32_t, 256> byte_ids_{};  // <0xHH> ids, -1 where absent

    int32_t bos_ = -1;
    int32_t eos_ = -1;
    std::optional<int32_t> pad_;
    std::optional<int32_t> unk_;
    std::optional<int32_t> start_of_turn_;
    std::optional<int32_t> end_of_turn_;
    std::vector<int32_t> eog_ids_;
    std::string chat_template_;
};

}  // namespace vkllm
