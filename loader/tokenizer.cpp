// Tokenizer loading (GGUF keys, gemma4-model.md §5.1–5.2), lookups and decoding (§5.4).
// Encoding lives in tokenizer_encode.cpp.
#include "loader/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "loader/model_file_error.h"

namespace vkllm {
namespace {

constexpr std::string_view k_key_model = "tokenizer.ggml.model";
constexpr std::string_view k_key_tokens = "tokenizer.ggml.tokens";
constexpr std::string_view k_key_types = "tokenizer.ggml.token_type";
constexpr std::string_view k_key_merges = "tokenizer.ggml.merges";
constexpr std::string_view k_key_bos = "tokenizer.ggml.bos_token_id";
constexpr std::string_view k_key_eos = "tokenizer.ggml.eos_token_id";
constexpr std::string_view k_key_unk = "tokenizer.ggml.unknown_token_id";
constexpr std::string_view k_key_pad = "tokenizer.ggml.padding_token_id";
constexpr std::string_view k_key_template = "tokenizer.chat_template";

constexpr std::string_view k_space_marker = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

[[noreturn]] void fail_key(const GgufFile& file, std::string_view key, const std::string& detail) {
    throw ModelFileError(file.name(), "key '" + std::string(key) + "': " + detail);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

uint64_t mix64(uint64_t x) {
    // splitmix64 finaliser: cheap and spreads the packed id pair over all bits.
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

uint64_t pack_pair(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint64_t>(static_cast<uint32_t>(right));
}

}  // namespace

// ---- MergeTable ---------------------------------------------------------------------------------

void Tokenizer::MergeTable::reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    slots.assign(cap, Slot{k_empty, 0, 0});
    mask = cap - 1;
}

void Tokenizer::MergeTable::insert(int32_t left, int32_t right, int32_t rank, int32_t result) {
    const uint64_t key = pack_pair(left, right);
    for (uint64_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        Slot& s = slots[i];
        if (s.key == k_empty) {
            s = Slot{key, rank, result};
            return;
        }
        if (s.key == key) {
            if (rank < s.rank) s = Slot{key, rank, result};
            return;
        }
    }
}

const Tokenizer::MergeTable::Slot* Tokenizer::MergeTable::find(int32_t left, int32_t right) const {
    if (slots.empty()) return nullptr;
    const uint64_t key = pack_pair(left, right);
    for (uint64_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        const Slot& s = slots[i];
        if (s.key == key) return &s;
        if (s.key == k_empty) return nullptr;
    }
}

// ---- loading ------------------------------------------------------------------------------------

Tokenizer Tokenizer::from_gguf(const GgufFile& file) {
    const std::string_view model = file.get_string(k_key_model);
    if (model != "gemma4") {
        fail_key(file, k_key_model,
                 "expected \"gemma4\", found \"" + std::string(model) +
                     "\": this tokenizer only implements the Gemma 4 BPE vocabulary");
    }
    Tokenizer t;
    t.load_vocab(file);
    t.load_merges(file);
    t.load_special_ids(file);
    if (const auto tmpl = file.find_string(k_key_template)) t.chat_template_ = std::string(*tmpl);
    return t;
}

void Tokenizer::load_vocab(const GgufFile& file) {
    const GgufValue* tokens = file.find(k_key_tokens);
    if (tokens == nullptr) fail_key(file, k_key_tokens, "required array of string key is missing");
    if (!tokens->is_array() || tokens->elem_type != GgufValueType::STRING) {
        fail_key(file, k_key_tokens,
                 "expected array of string, found " + tokens->type_description());
    }
    const std::vector<std::string_view>& texts = tokens->strings;
    const size_t n = texts.size();
    if (n == 0 || n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail_key(file, k_key_tokens, "vocabulary size " + std::to_string(n) + " is out of range");
    }
    const std::vector<int32_t> raw_types = file.get_i32_array(k_key_types);
    if (raw_types.size() != n) {
        fail_key(file, k_key_types,
                 "has " + std::to_string(raw_types.size()) + " entries but " +
                     std::string(k_key_tokens) + " has " + std::to_string(n) +
                     ": the metadata is inconsistent");
    }

    size_t total = 0;
    for (const std::string_view s : texts) total += s.size();
    if (total > std::numeric_limits<uint32_t>::max()) {
        fail_key(file, k_key_tokens, "token texts total " + describe_bytes(total) + ", too large");
    }
    arena_.resize(total);
    offsets_.resize(n + 1);
    types_.resize(n);
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
        offsets_[i] = static_cast<uint32_t>(pos);
        std::copy(texts[i].begin(), texts[i].end(), arena_.begin() + static_cast<ptrdiff_t>(pos));
        pos += texts[i].size();
        const int32_t ty = raw_types[i];
        types_[i] = (ty >= 0 && ty <= 6) ? static_cast<TokenType>(ty) : TokenType::Undefined;
    }
    offsets_[n] = static_cast<uint32_t>(pos);

    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    text_slots_.assign(cap, TextSlot{0, -1});
    text_mask_ = cap - 1;
    for (size_t i = 0; i < n; ++i) {
        const auto id = static_cast<int32_t>(i);
        const std::string_view text = text_at(i);
        const uint64_t h = text_hash(text);
        for (uint64_t k = h & text_mask_;; k = (k + 1) & text_mask_) {
            TextSlot& slot = text_slots_[k];
            if (slot.id < 0) {
                slot = TextSlot{static_cast<uint32_t>(h), id};
                break;
            }
            // First occurrence wins if a text repeats (it does not in released vocabularies).
            if (slot.hash == static_cast<uint32_t>(h) &&
                text_at(static_cast<size_t>(slot.id)) == text) {
                break;
            }
        }
    }

    byte_ids_.fill(-1);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        if (const auto id = find_token(name)) byte_ids_[static_cast<size_t>(b)] = *id;
    }
}

void Tokenizer::load_merges(const GgufFile& file) {
    const GgufValue* merges = file.find(k_key_merges);
    if (merges == nullptr) fail_key(file, k_key_merges, "required array of string key is missing");
    if (!merges->is_array() || merges->elem_type != GgufValueType::STRING) {
        fail_key(file, k_key_merges,
                 "expected array of string, found " + merges->type_description());
    }
    const std::vector<std::string_view>& list = merges->strings;
    merges_.reserve(list.size());
    for (size_t rank = 0; rank < list.size(); ++rank) {
        const std::string_view m = list[rank];
        const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
        if (space == std::string_view::npos) {
            fail_key(file, k_key_merges,
                     "entry " + std::to_string(rank) + " (\"" + std::string(m.substr(0, 64)) +
                         "\") has no separating space: expected \"left right\"");
        }
        const std::string_view left = m.substr(0, space);
        const std::string_view right = m.substr(space + 1);
        const auto l = find_token(left);
        const auto r = find_token(right);
        const auto j = find_joined(left, right);
        // A merge whose parts or result are not tokens can never fire on id symbols; HF BPE
        // vocabularies do not contain such merges.
        if (!l || !r || !j) continue;
        merges_.insert(*l, *r, static_cast<int32_t>(rank), *j);
        ++n_merges_;
    }
}

void Tokenizer::check_id(const GgufFile& file, std::string_view key, int64_t id) const {
    if (id < 0 || static_cast<uint64_t>(id) >= vocab_size()) {
        fail_key(file, key,
                 "token id " + std::to_string(id) + " is outside the vocabulary of " +
                     std::to_string(vocab_size()) + " tokens");
    }
}

void Tokenizer::load_special_ids(const GgufFile& file) {
    const uint32_t bos = file.get_u32(k_key_bos);
    const uint32_t eos = file.get_u32(k_key_eos);
    check_id(file, k_key_bos, bos);
    check_id(file, k_key_eos, eos);
    bos_ = static_cast<int32_t>(bos);
    eos_ = static_cast<int32_t>(eos);
    if (const auto unk = file.find_u32(k_key_unk)) {
        check_id(file, k_key_unk, *unk);
        unk_ = static_cast<int32_t>(*unk);
    }
    if (const auto pad = file.find_u32(k_key_pad)) {
        check_id(file, k_key_pad, *pad);
        pad_ = static_cast<int32_t>(*pad);
    }
    start_of_turn_ = find_token("<|turn>");
    end_of_turn_ = find_token("<turn|>");

    // End-of-generation set, forced to CONTROL as llama.cpp does (§5.2).
    eog_ids_.push_back(eos_);
    for (const std::string_view text : {"<eos>", "<turn|>", "<|tool_response>"}) {
        if (const auto id = find_token(text)) eog_ids_.push_back(*id);
    }
    std::sort(eog_ids_.begin(), eog_ids_.end());
    eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
    for (const int32_t id : eog_ids_) types_[static_cast<size_t>(id)] = TokenType::Control;

    // Texts matched before BPE, longest first (ties by id, for a deterministic order).
    for (size_t i = 0; i < types_.size(); ++i) {
        const TokenType ty = types_[i];
        if (ty != TokenType::Control && ty != TokenType::UserDefined && ty != TokenType::Unknown)
            continue;
        const std::string_view text = token_text(static_cast<int32_t>(i));
        if (text.empty()) continue;
        specials_.push_back({text, static_cast<int32_t>(i), ty != TokenType::UserDefined});
    }
    std::sort(specials_.begin(), specials_.end(), [](const SpecialToken& a, const SpecialToken& b) {
        if (a.text.size() != b.text.size()) return a.text.size() > b.text.size();
        return a.id < b.id;
    });
}

// ---- lookups and decoding ----------------------------------------------------------------------

std::string_view Tokenizer::token_text(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= vocab_size()) {
        throw std::out_of_range("[tokenizer] token id " + std::to_string(id) +
                                " is outside the vocabulary of " + std::to_string(vocab_size()));
    }
    return text_at(static_cast<size_t>(id));
}

TokenType Tokenizer::token_type(int32_t id) const {
    (void)token_text(id);  // range check
    return types_[static_cast<size_t>(id)];
}

uint64_t Tokenizer::text_hash(std::string_view a, std::string_view b) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (const std::string_view part : {a, b}) {
        for (const char c : part) {
            h ^= static_cast<uint8_t>(c);
            h *= 0x100000001B3ull;
        }
    }
    return mix64(h);
}

std::optional<int32_t> Tokenizer::find_joined(std::string_view a, std::string_view b) const {
    if (text_slots_.empty()) return std::nullopt;
    const uint64_t h = text_hash(a, b);
    for (uint64_t k = h & text_mask_;; k = (k + 1) & text_mask_) {
        const TextSlot& slot = text_slots_[k];
        if (slot.id < 0) return std::nullopt;
        if (slot.hash != static_cast<uint32_t>(h)) continue;
        const std::string_view t = text_at(static_cast<size_t>(slot.id));
        if (t.size() == a.size() + b.size() && t.starts_with(a) && t.ends_with(b)) return slot.id;
    }
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
    return find_joined(text, {});
}

bool Tokenizer::is_eog(int32_t id) const {
    return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

void Tokenizer::append_piece(int32_t id, bool skip_special, std::string& out) const {
    const std::string_view text = token_text(id);
    switch (types_[static_cast<size_t>(id)]) {
        case TokenType::Normal:
        case TokenType::Undefined: {
            size_t pos = 0;
            for (size_t hit; (hit = text.find(k_space_marker, pos)) != std::string_view::npos;) {
                out.append(text.substr(pos, hit - pos));
                out.push_back(' ');
                pos = hit + k_space_marker.size();
            }
            out.append(text.substr(pos));
            return;
        }
        case TokenType::Byte: {
            // "<0xHH>"; a malformed byte-token text decodes as its text.
            const int hi = text.size() == 6 ? hex_value(text[3]) : -1;
            const int lo = text.size() == 6 ? hex_value(text[4]) : -1;
            if (hi >= 0 && lo >= 0 && text.substr(0, 3) == "<0x" && text[5] == '>') {
                out.push_back(static_cast<char>(hi * 16 + lo));
            } else {
                out.append(text);
            }
            return;
        }
        case TokenType::UserDefined:
            out.append(text);
            return;
        case TokenType::Control:
        case TokenType::Unknown:
        case TokenType::Unused:
            if (!skip_special) out.append(text);
            return;
    }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    std::string out;
    for (const int32_t id : ids) append_piece(id, skip_special, out);
    return out;
}

}  // namespace vkllm
