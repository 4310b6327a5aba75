#pragma once
// Strict UTF-8 scanning (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) shared by
// the tokenizer, the streaming detokenizer and the chat template renderer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vkllm::utf8 {

enum class Scan : uint8_t {
    Valid,       // a complete code point of `length` bytes
    Incomplete,  // the bytes up to the end of the input are a valid prefix of a code point
    Invalid,     // the byte at `pos` cannot start a valid code point here; skip 1 byte
};

struct ScanResult {
    Scan status;
    size_t length;  // bytes of the code point (Valid), bytes available (Incomplete), 1 (Invalid)
};

// Examines the code point that starts at s[pos] (pos < s.size()).
inline ScanResult scan(std::string_view s, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[pos + i]); };
    const uint8_t b0 = byte(0);
    if (b0 < 0x80) return {Scan::Valid, 1};
    size_t need = 0;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return {Scan::Invalid, 1};
    }
    const size_t avail = s.size() - pos;
    for (size_t i = 1; i < need; ++i) {
        if (i >= avail) return {Scan::Incomplete, avail};
        const uint8_t b = byte(i);
        const uint8_t min = i == 1 ? lo : uint8_t{0x80};
        const uint8_t max = i == 1 ? hi : uint8_t{0xBF};
        if (b < min || b > max) return {Scan::Invalid, 1};
    }
    return {Scan::Valid, need};
}

// The code point of a Valid scan of `length` bytes at s[pos].
inline uint32_t decode(std::string_view s, size_t pos, size_t length) {
    const auto byte = [&](size_t i) {
        return static_cast<uint32_t>(static_cast<uint8_t>(s[pos + i]));
    };
    switch (length) {
        case 1:
            return byte(0);
        case 2:
            return ((byte(0) & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
        case 3:
            return ((byte(0) & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
        default:
            return ((byte(0) & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) |
                   ((byte(2) & 0x3Fu) << 6) | (byte(3) & 0x3Fu);
    }
}

inline bool is_valid(std::string_view s) {
    for (size_t pos = 0; pos < s.size();) {
        const ScanResult r = scan(s, pos);
        if (r.status != Scan::Valid) return false;
        pos += r.length;
    }
    return true;
}

// U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view k_replacement = "\xEF\xBF\xBD";

}  // namespace vkllm::utf8
