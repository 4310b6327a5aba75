// Streaming stop strings: splits across pieces, held-back partial matches, several stops, UTF-8.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/generate/stop_matcher.h"

namespace vkllm {
namespace {

// Feeds `pieces`, returns everything released (flushing at the end if nothing stopped).
std::string feed(StopMatcher& m, const std::vector<std::string>& pieces) {
    std::string out;
    for (const std::string& p : pieces) {
        const StopMatcher::Step s = m.push(p);
        out += s.text;
        if (s.stopped) return out;
    }
    return out + m.flush();
}

TEST(StopMatcher, PassesTextThroughWithoutStops) {
    StopMatcher m({});
    EXPECT_EQ(m.push("Hello").text, "Hello");
    EXPECT_EQ(m.push(", world").text, ", world");
    EXPECT_EQ(m.flush(), "");
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopsInsideOnePiece) {
    StopMatcher m({"END"});
    const StopMatcher::Step s = m.push("abcENDdef");
    EXPECT_TRUE(s.stopped);
    EXPECT_EQ(s.text, "abc");
    EXPECT_TRUE(m.push("more").text.empty());
    EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, StopSplitAcrossPieces) {
    StopMatcher m({"<end>"});
    StopMatcher::Step s = m.push("text <e");
    EXPECT_EQ(s.text, "text ");  // "<e" could start the stop string
    EXPECT_FALSE(s.stopped);
    EXPECT_EQ(m.held_bytes(), 2u);
    s = m.push("n");
    EXPECT_EQ(s.text, "");
    s = m.push("d>tail");
    EXPECT_TRUE(s.stopped);
    EXPECT_EQ(s.text, "");
    EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, PartialPrefixIsReleasedWhenItDoesNotContinue) {
    StopMatcher m({"STOP"});
    StopMatcher::Step s = m.push("xST");
    EXPECT_EQ(s.text, "x");
    s = m.push("Ay");
    EXPECT_EQ(s.text, "STAy");
    EXPECT_FALSE(s.stopped);
    // Held at the end of the stream: flush releases it.
    EXPECT_EQ(m.push("S").text, "");
    EXPECT_EQ(m.flush(), "S");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
    StopMatcher a({"world", "lo"});
    EXPECT_EQ(feed(a, {"hel", "lo wor", "ld"}), "hel");
    StopMatcher b({"bc", "abcd"});
    EXPECT_EQ(feed(b, {"xab", "cd"}), "x");  // "abcd" starts before "bc"
    // The longest possible partial match across all stops is held.
    StopMatcher c({"aab", "ab"});
    StopMatcher::Step s = c.push("zaa");
    EXPECT_EQ(s.text, "z");
    EXPECT_EQ(feed(c, {"c"}), "aac");
}

TEST(StopMatcher, OneCharacterPerPieceMatchesTheWholeStream) {
    const std::string text = "one two three\nfour";
    for (const std::string stop : {"three", "\n", "o t", "four", "r"}) {
        StopMatcher m({stop});
        std::vector<std::string> pieces;
        for (char c : text) pieces.emplace_back(1, c);
        EXPECT_EQ(feed(m, pieces), text.substr(0, text.find(stop))) << stop;
    }
    StopMatcher none({"zzz"});
    std::vector<std::string> pieces;
    for (char c : text) pieces.emplace_back(1, c);
    EXPECT_EQ(feed(none, pieces), text);
}

TEST(StopMatcher, Utf8StopsAndCharacterBoundaries) {
    StopMatcher m({"世界"});
    EXPECT_EQ(feed(m, {"你好", "世", "界!"}), "你好");
    // A stop string that is not valid UTF-8 (it starts with a continuation byte) must not make
    // the matcher release half a character.
    StopMatcher odd({"\xA0xyz"});
    const StopMatcher::Step s = odd.push("a\xE4\xBD\xA0");
    EXPECT_EQ(s.text, "a");
    EXPECT_EQ(odd.flush(), "\xE4\xBD\xA0");
}

TEST(StopMatcher, RejectsEmptyStopStrings) {
    EXPECT_THROW(StopMatcher({"ok", ""}), std::invalid_argument);
}

TEST(StopMatcher, ResetStartsOver) {
    StopMatcher m({"x"});
    EXPECT_TRUE(m.push("x").stopped);
    m.reset();
    EXPECT_EQ(m.push("abc").text, "abc");
}

}  // namespace
}  // namespace vkllm
