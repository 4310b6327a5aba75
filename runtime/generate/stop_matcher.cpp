#include "runtime/generate/stop_matcher.h"

#include <algorithm>
#include <stdexcept>

namespace vkllm {
namespace {

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0u) == 0x80u;
}

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
    for (size_t i = 0; i < stops_.size(); ++i) {
        if (stops_[i].empty()) {
            throw std::invalid_argument("stop[" + std::to_string(i) + "]: empty stop string");
        }
    }
}

void StopMatcher::reset() {
    pending_.clear();
    stopped_ = false;
}

size_t StopMatcher::partial_match_length() const {
    size_t best = 0;
    for (const std::string& stop : stops_) {
        const size_t longest = std::min(stop.size() - 1, pending_.size());
        for (size_t len = longest; len > best; --len) {
            if (std::string_view(pending_).substr(pending_.size() - len) ==
                std::string_view(stop).substr(0, len)) {
                best = len;
                break;
            }
        }
    }
    return best;
}

StopMatcher::Step StopMatcher::push(std::string_view piece) {
    Step step;
    if (stopped_) return step;
    pending_ += piece;

    // The earliest stop wins; the previous call left no complete stop in pending_, so any match
    // involves the new piece, but searching the whole (short) buffer keeps this simple.
    size_t first = std::string::npos;
    for (const std::string& stop : stops_) first = std::min(first, pending_.find(stop));
    if (first != std::string::npos) {
        step.text = pending_.substr(0, first);
        step.stopped = true;
        stopped_ = true;
        pending_.clear();
        return step;
    }

    size_t cut = pending_.size() - partial_match_length();
    // A stop string that is not valid UTF-8 could make the cut land inside a character; holding
    // back a little more is always safe.
    while (cut > 0 && cut < pending_.size() && is_utf8_continuation(pending_[cut])) --cut;
    step.text = pending_.substr(0, cut);
    pending_.erase(0, cut);
    return step;
}

std::string StopMatcher::flush() {
    std::string out = stopped_ ? std::string() : std::move(pending_);
    pending_.clear();
    return out;
}

}  // namespace vkllm
