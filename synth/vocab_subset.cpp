#include "synth/vocab_subset.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "loader/gguf_writer.h"
#include "loader/tokenizer.h"
#include "loader/tokenizer_utf8.h"

namespace vkllm::synth {
namespace {

constexpr std::string_view k_tokens = "tokenizer.ggml.tokens";
constexpr std::string_view k_scores = "tokenizer.ggml.scores";
constexpr std::string_view k_types = "tokenizer.ggml.token_type";
constexpr std::string_view k_merges = "tokenizer.ggml.merges";

struct Merge {
    int32_t left;
    int32_t right;
    int32_t result;
    size_t index;  // in tokenizer.ggml.merges
};

// The merges of `full` whose parts and result are tokens, in rank order.
std::vector<Merge> read_merges(const GgufFile& full, const Tokenizer& tok) {
    std::vector<Merge> out;
    const std::vector<std::string_view> merges = full.get_string_array(k_merges);
    for (size_t i = 0; i < merges.size(); ++i) {
        const std::string_view m = merges[i];
        const size_t sp = m.find(' ');
        if (sp == std::string_view::npos) continue;
        const std::string_view l = m.substr(0, sp), r = m.substr(sp + 1);
        const auto li = tok.find_token(l), ri = tok.find_token(r);
        const auto res = tok.find_token(std::string(l) + std::string(r));
        if (li && ri && res) out.push_back({*li, *ri, *res, i});
    }
    return out;
}

bool always_kept(TokenType t) {
    return t == TokenType::Control || t == TokenType::Unknown || t == TokenType::UserDefined ||
           t == TokenType::Byte;
}

class Chooser {
  public:
    Chooser(const Tokenizer& tok, const std::vector<Merge>& merges)
        : keep_(tok.vocab_size(), false) {
        // The lowest-rank merge that builds a token is the one BPE uses.
        for (const Merge& m : merges) parents_.try_emplace(m.result, m);
    }

    size_t size() const { return n_kept_; }

    // Marks id kept; returns how many tokens that (and its missing parents) would add.
    size_t cost(int32_t id) const {
        std::vector<int32_t> stack{id};
        std::vector<int32_t> seen;
        while (!stack.empty()) {
            const int32_t t = stack.back();
            stack.pop_back();
            if (keep_[t] || std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
            seen.push_back(t);
            if (const auto it = parents_.find(t); it != parents_.end()) {
                stack.push_back(it->second.left);
                stack.push_back(it->second.right);
            }
        }
        return seen.size();
    }

    void keep(int32_t id) {
        if (keep_[id]) return;
        keep_[id] = true;
        ++n_kept_;
        if (const auto it = parents_.find(id); it != parents_.end()) {
            keep(it->second.left);
            keep(it->second.right);
        }
    }

    std::vector<int32_t> kept() const {
        std::vector<int32_t> out;
        for (size_t i = 0; i < keep_.size(); ++i) {
            if (keep_[i]) out.push_back(static_cast<int32_t>(i));
        }
        return out;
    }

  private:
    std::vector<bool> keep_;
    size_t n_kept_ = 0;
    std::unordered_map<int32_t, Merge> parents_;
};

// Every character of `text` that is a token of its own (U+2581 for a space, as the encoder
// sees it).
void keep_characters(const Tokenizer& tok, std::string_view text, Chooser& c) {
    for (size_t i = 0; i < text.size();) {
        const size_t len = utf8::scan(text, i).length;
        const std::string_view ch = text.substr(i, len);
        if (const auto id = tok.find_token(ch == " " ? "\xE2\x96\x81" : ch)) c.keep(*id);
        i += len;
    }
}

template <typename T, typename Index>
std::vector<T> pick(const std::vector<T>& all, const std::vector<Index>& indices) {
    std::vector<T> out;
    out.reserve(indices.size());
    for (Index i : indices) out.push_back(all[static_cast<size_t>(i)]);
    return out;
}

}  // namespace

VocabSubset choose_vocab_subset(const GgufFile& full, std::span<const std::string> corpus,
                                uint32_t n_tokens) {
    const Tokenizer tok = Tokenizer::from_gguf(full);
    if (n_tokens > tok.vocab_size()) {
        throw std::invalid_argument("[vocab] " + std::to_string(n_tokens) + " tokens asked, " +
                                    full.name() + " has " + std::to_string(tok.vocab_size()));
    }
    const std::vector<Merge> merges = read_merges(full, tok);
    Chooser c(tok, merges);
    for (size_t id = 0; id < tok.vocab_size(); ++id) {
        if (always_kept(tok.token_type(static_cast<int32_t>(id)))) c.keep(static_cast<int32_t>(id));
    }
    std::vector<uint64_t> count(tok.vocab_size(), 0);
    VocabSubset out;
    for (const std::string& text : corpus) {
        keep_characters(tok, text, c);
        const std::vector<int32_t> ids = tok.encode(text, false, true);
        out.n_corpus_tokens_full += ids.size();
        for (int32_t id : ids) ++count[static_cast<size_t>(id)];
    }
    out.n_required = c.size();
    if (out.n_required > n_tokens) {
        throw std::invalid_argument(
            "[vocab] the specials, byte tokens and the corpus's "
            "characters alone are " +
            std::to_string(out.n_required) + " tokens, more than " + std::to_string(n_tokens));
    }
    std::vector<int32_t> order(tok.vocab_size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return count[a] > count[b]; });
    for (int32_t id : order) {
        if (count[static_cast<size_t>(id)] == 0 || c.size() == n_tokens) break;
        if (c.size() + c.cost(id) <= n_tokens) c.keep(id);
    }
    // A corpus smaller than the subset: fill up with the merges in rank order, which BPE learned
    // from the most frequent pairs of its own training text.
    for (const Merge& m : merges) {
        if (c.size() == n_tokens) break;
        if (c.size() + c.cost(m.result) <= n_tokens) c.keep(m.result);
    }
    out.kept = c.kept();
    const auto has = [&](int32_t id) {
        return std::binary_search(out.kept.begin(), out.kept.end(), id);
    };
    for (const Merge& m : merges) {
        if (has(m.left) && has(m.right) && has(m.result)) out.merges.push_back(m.index);
    }
    return out;
}

void write_vocab_subset(const GgufFile& full, const VocabSubset& subset,
                        const std::filesystem::path& out) {
    std::unordered_map<int64_t, int32_t> new_id;
    for (size_t i = 0; i < subset.kept.size(); ++i) {
        new_id[subset.kept[i]] = static_cast<int32_t>(i);
    }
    GgufWriter w;
    for (const GgufKv& kv : full.metadata()) {
        if (kv.key.rfind("tokenizer.", 0) != 0) continue;
        if (kv.key == k_tokens) {
            const auto all = full.get_string_array(k_tokens);
            const auto some = pick(all, subset.kept);
            w.add_array(kv.key, GgufWriteArray::of_strings(std::span(some)));
        } else if (kv.key == k_scores) {
            const auto some = pick(full.get_f32_array(k_scores), subset.kept);
            w.add_array(kv.key, GgufWriteArray::of(std::span<const float>(some)));
        } else if (kv.key == k_types) {
            const auto some = pick(full.get_i32_array(k_types), subset.kept);
            w.add_array(kv.key, GgufWriteArray::of(std::span<const int32_t>(some)));
        } else if (kv.key == k_merges) {
            const auto some = pick(full.get_string_array(k_merges), subset.merges);
            w.add_array(kv.key, GgufWriteArray::of_strings(std::span(some)));
        } else if (kv.key.size() > 9 && kv.key.ends_with("_token_id")) {
            const auto old = full.find_scalar<uint32_t>(kv.key);
            const auto it = old ? new_id.find(*old) : new_id.end();
            if (it == new_id.end()) {
                throw std::invalid_argument("[vocab] " + std::string(kv.key) +
                                            " names a token the subset "
                                            "dropped");
            }
            w.add_u32(kv.key, static_cast<uint32_t>(it->second));
        } else if (kv.value.is_array() && kv.value.elem_type != GgufValueType::STRING) {
            throw std::invalid_argument("[vocab] " + std::string(kv.key) +
                                        " holds token ids the subset cannot renumber");
        } else {
            w.add_value(kv.key, kv.value);
        }
    }
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot create " + out.string());
    w.write(f);
    f.close();
    if (!f) throw std::runtime_error("writing " + out.string() + " failed (disk full?)");
}

}  // namespace vkllm::synth
