// Tokenizer encoding (gemma4-model.md §5.3): special-token split, newline-run pre-tokenizer,
// rank-ordered BPE with a lazily invalidated priority queue (O(n log n) per run), byte fallback.
#include <queue>
#include <string>
#include <vector>

#include "loader/tokenizer.h"
#include "loader/tokenizer_utf8.h"

namespace vkllm {
namespace {

constexpr std::string_view k_space_marker = "\xE2\x96\x81";  // U+2581

// A piece of the input after the special-token split: a token id, or a byte range of text.
struct Fragment {
    int32_t id;  // -1: text
    size_t offset;
    size_t length;
};

// One BPE symbol in a doubly linked list over the run; a merged-away symbol has length 0.
struct Symbol {
    uint32_t offset;
    uint32_t length;
    int32_t id;  // -1: not a token (only possible before any merge: merges produce tokens)
    int32_t prev;
    int32_t next;
};

// A candidate merge of symbols[left] and symbols[right], valid while both still hold the ids
// recorded here and are still adjacent.
struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t result;
};

// Lowest rank first; on equal ranks the leftmost pair first.
struct LaterCandidate {
    bool operator()(const Candidate& a, const Candidate& b) const {
        if (a.rank != b.rank) return a.rank > b.rank;
        return a.left > b.left;
    }
};

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos,
                                       bool parse_special) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_bos) out.push_back(bos_);

    // 1. Special-token split, one token text at a time, longest first (as llama.cpp does): every
    //    occurrence inside the remaining text fragments becomes its own fragment.
    std::vector<Fragment> fragments{{-1, 0, text.size()}};
    std::vector<Fragment> next;
    for (const SpecialToken& special : specials_) {
        if (special.needs_parse_special && !parse_special) continue;
        if (text.find(special.text) == std::string_view::npos) continue;
        next.clear();
        for (const Fragment& f : fragments) {
            if (f.id >= 0) {
                next.push_back(f);
                continue;
            }
            const std::string_view body = text.substr(f.offset, f.length);
            size_t pos = 0;
            for (size_t hit; (hit = body.find(special.text, pos)) != std::string_view::npos;) {
                if (hit > pos) next.push_back({-1, f.offset + pos, hit - pos});
                next.push_back({special.id, 0, 0});
                pos = hit + special.text.size();
            }
            if (pos < body.size()) next.push_back({-1, f.offset + pos, body.size() - pos});
        }
        fragments.swap(next);
    }

    for (const Fragment& f : fragments) {
        if (f.id >= 0) {
            out.push_back(f.id);
        } else if (f.length > 0) {
            encode_fragment(text.substr(f.offset, f.length), out);
        }
    }
    return out;
}

void Tokenizer::encode_fragment(std::string_view text, std::vector<int32_t>& out) const {
    // 2. ' ' -> U+2581, then maximal runs of '\n' and of everything else.
    std::string marked;
    marked.reserve(text.size() + text.size() / 4);
    for (const char c : text) {
        if (c == ' ') {
            marked.append(k_space_marker);
        } else {
            marked.push_back(c);
        }
    }
    const std::string_view s = marked;
    for (size_t pos = 0; pos < s.size();) {
        const bool newline = s[pos] == '\n';
        size_t end = pos + 1;
        while (end < s.size() && (s[end] == '\n') == newline) ++end;
        const std::string_view run = s.substr(pos, end - pos);
        pos = end;
        // 3. A newline run that is itself a token is emitted whole (llama.cpp PR #21343).
        if (newline) {
            if (const auto id = find_token(run)) {
                out.push_back(*id);
                continue;
            }
        }
        encode_run(run, out);
    }
}

void Tokenizer::encode_run(std::string_view run, std::vector<int32_t>& out) const {
    // 4. One symbol per UTF-8 code point; an invalid byte is a symbol of its own.
    std::vector<Symbol> symbols;
    symbols.reserve(run.size());
    for (size_t pos = 0; pos < run.size();) {
        const utf8::ScanResult r = utf8::scan(run, pos);
        const size_t len = r.status == utf8::Scan::Valid ? r.length : 1;
        const auto id = find_token(run.substr(pos, len));
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(len), id ? *id : -1,
                           index - 1, index + 1});
        pos += len;
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;

    std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> queue;
    const auto propose = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& a = symbols[static_cast<size_t>(left)];
        const Symbol& b = symbols[static_cast<size_t>(right)];
        if (a.id < 0 || b.id < 0) return;
        if (const MergeTable::Slot* m = merges_.find(a.id, b.id)) {
            queue.push({m->rank, left, right, a.id, b.id, m->result});
        }
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        propose(static_cast<int32_t>(i), static_cast<int32_t>(i + 1));
    }

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& a = symbols[static_cast<size_t>(c.left)];
        Symbol& b = symbols[static_cast<size_t>(c.right)];
        // Stale: one side was merged into something else since this candidate was queued.
        if (a.length == 0 || b.length == 0 || a.next != c.right || a.id != c.left_id ||
            b.id != c.right_id) {
            continue;
        }
        a.id = c.result;
        a.length += b.length;
        a.next = b.next;
        b.length = 0;
        if (a.next >= 0) symbols[static_cast<size_t>(a.next)].prev = c.left;
        propose(a.prev, c.left);
        propose(c.left, a.next);
    }

    for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
        const Symbol& sym = symbols[static_cast<size_t>(i)];
        emit_symbol(run.substr(sym.offset, sym.length), sym.id, out);
    }
}

void Tokenizer::emit_symbol(std::string_view text, int32_t id, std::vector<int32_t>& out) const {
    if (id >= 0) {
        out.push_back(id);
        return;
    }
    // Byte fallback: one <0xHH> token per byte; bytes without such a token are dropped (§5.3).
    for (const char c : text) {
        const int32_t byte_id = byte_ids_[static_cast<uint8_t>(c)];
        if (byte_id >= 0) out.push_back(byte_id);
    }
}

}  // namespace vkllm
