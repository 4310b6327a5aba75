// Streaming detokenizer: UTF-8 completion and repair over token pieces.
#include "loader/detokenizer.h"

#include "loader/tokenizer_utf8.h"

namespace vkllm {

std::string Detokenizer::push(int32_t id) {
    tokenizer_->append_piece(id, skip_special_, pending_);
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        const utf8::ScanResult r = utf8::scan(pending_, pos);
        if (r.status == utf8::Scan::Incomplete) break;  // keep the tail for the next token
        if (r.status == utf8::Scan::Valid) {
            out.append(pending_, pos, r.length);
        } else {
            out.append(utf8::k_replacement);
        }
        pos += r.length;
    }
    pending_.erase(0, pos);
    return out;
}

std::string Detokenizer::flush() {
    std::string out = pending_.empty() ? std::string() : std::string(utf8::k_replacement);
    pending_.clear();
    return out;
}

}  // namespace vkllm
