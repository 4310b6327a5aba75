// Gemma 4 tokenizer and streaming detokenizer: llama.cpp reference ids on the full 262k vocabulary,
// round trips, UTF-8 safety, BPE ordering rules on a hand-made vocabulary, load errors, speed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loader/detokenizer.h"
#include "loader/gguf_file.h"
#include "loader/gguf_writer.h"
#include "loader/model_file_error.h"
#include "loader/tokenizer.h"
#include "loader/tokenizer_utf8.h"

namespace vkllm {
namespace {

const std::filesystem::path k_fixtures = VKLLM_TEST_FIXTURES_DIR;
const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return nlohmann::json::parse(in);
}

std::string ids_text(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
    return s + "]";
}

// The full vocabulary is loaded once per suite (it is the expensive part).
class TokenizerGemma4 : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        file_ = std::make_unique<GgufFile>(GgufFile::open(k_models / "vocab-gemma4.gguf"));
        const auto t0 = std::chrono::steady_clock::now();
        tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*file_));
        load_seconds_ = seconds_since(t0);
        cases_ = read_json(k_fixtures / "reference" / "tokenizer" / "vocab-gemma4.tokens.json");
    }
    static void TearDownTestSuite() {
        tok_.reset();
        file_.reset();
    }

    static const Tokenizer& tok() { return *tok_; }

    static inline std::unique_ptr<GgufFile> file_;
    static inline std::unique_ptr<Tokenizer> tok_;
    static inline double load_seconds_ = 0.0;
    static inline nlohmann::json cases_;
};

TEST_F(TokenizerGemma4, LoadsVocabularyAndSpecialIds) {
    EXPECT_EQ(tok().vocab_size(), 262144u);
    EXPECT_EQ(tok().merge_count(), 514906u);
    EXPECT_EQ(tok().bos(), 2);
    EXPECT_EQ(tok().eos(), 1);
    EXPECT_EQ(tok().pad(), 0);
    EXPECT_EQ(tok().unk(), 3);
    EXPECT_EQ(tok().start_of_turn(), 105);
    EXPECT_EQ(tok().end_of_turn(), 106);
    EXPECT_EQ(tok().eog_ids(),
              (std::vector<int32_t>{1, 50, 106}));  // <eos>, <|tool_response>, <turn|>
    EXPECT_TRUE(tok().is_eog(106));
    EXPECT_FALSE(tok().is_eog(105));
    EXPECT_EQ(tok().token_text(107), "\n");
    EXPECT_EQ(tok().token_type(48), TokenType::UserDefined);  // <|tool_call>
    EXPECT_EQ(tok().token_type(50), TokenType::Control);      // <|tool_response>, forced (EOG)
    EXPECT_EQ(tok().token_type(tok().find_token("<0x0A>").value()), TokenType::Byte);
    EXPECT_FALSE(tok().chat_template().empty());
    EXPECT_THROW((void)tok().token_text(262144), std::out_of_range);
    EXPECT_THROW((void)tok().token_text(-1), std::out_of_range);
    // 262k tokens + 515k merges: generous bound for a loaded 2-core CI machine in a Debug build;
    // a Release build loads in about 0.1 s.
    std::printf("vocab load: %.3f s\n", load_seconds_);
    EXPECT_LT(load_seconds_, 3.0);
}

TEST_F(TokenizerGemma4, MatchesReferenceIdsUnderAllSettings) {
    ASSERT_GE(cases_.size(), 30u);
    for (const auto& c : cases_) {
        const std::string text = c.at("text").get<std::string>();
        for (const bool bos : {true, false}) {
            for (const bool special : {true, false}) {
                const std::string key =
                    std::string("bos=") + (bos ? "1" : "0") + ",special=" + (special ? "1" : "0");
                const auto want = c.at(key).get<std::vector<int32_t>>();
                const auto got = tok().encode(text, bos, special);
                EXPECT_EQ(got, want) << "text: \"" << text << "\" " << key << "\n got "
                                     << ids_text(got) << "\nwant " << ids_text(want);
            }
        }
    }
}

TEST_F(TokenizerGemma4, DecodeGivesBackTheText) {
    for (const auto& c : cases_) {
        const std::string text = c.at("text").get<std::string>();
        for (const bool special : {true, false}) {
            const auto ids = tok().encode(text, /*add_bos=*/false, special);
            EXPECT_EQ(tok().decode(ids, /*skip_special=*/false), text);
            if (!special) {
                // Without parsed specials, only USER_DEFINED tokens (kept on decode) can appear.
                EXPECT_EQ(tok().decode(ids, /*skip_special=*/true), text);
            }
        }
    }
    // Skipping specials drops CONTROL tokens such as <|turn> and <bos>.
    const auto ids = tok().encode("<|turn>user\nHi<turn|>", true, true);
    EXPECT_EQ(tok().decode(ids, true), "user\nHi");
}

TEST_F(TokenizerGemma4, StreamingDetokenizerMatchesDecodeAndStaysValidUtf8) {
    for (const auto& c : cases_) {
        const std::string text = c.at("text").get<std::string>();
        const auto ids = tok().encode(text, false, true);
        Detokenizer detok(tok(), /*skip_special=*/false);
        std::string streamed;
        for (const int32_t id : ids) {
            const std::string piece = detok.push(id);
            EXPECT_TRUE(utf8::is_valid(piece)) << "text: " << text;
            streamed += piece;
        }
        streamed += detok.flush();
        EXPECT_EQ(streamed, text);
    }
}

TEST_F(TokenizerGemma4, ByteFallbackForCharactersOutsideTheVocabulary) {
    const std::string ch = "\xF4\x8F\xBF\xBF";  // U+10FFFF, a noncharacter: not a token
    ASSERT_FALSE(tok().find_token(ch));
    const auto ids = tok().encode(ch, false, false);
    ASSERT_EQ(ids.size(), 4u);
    EXPECT_EQ(tok().token_text(ids[0]), "<0xF4>");
    EXPECT_EQ(tok().token_text(ids[3]), "<0xBF>");
    EXPECT_EQ(tok().decode(ids), ch);

    // Streamed one byte token at a time, the character appears only when complete.
    Detokenizer detok(tok());
    EXPECT_EQ(detok.push(ids[0]), "");
    EXPECT_EQ(detok.push(ids[1]), "");
    EXPECT_EQ(detok.push(ids[2]), "");
    EXPECT_EQ(detok.pending_bytes(), 3u);
    EXPECT_EQ(detok.push(ids[3]), ch);
    EXPECT_EQ(detok.flush(), "");
}

TEST_F(TokenizerGemma4, InvalidUtf8InputRoundTripsThroughByteTokens) {
    // Decision: encode never rejects bytes. Each invalid byte is its own symbol and becomes its
    // <0xHH> token, so decode() returns the exact input bytes.
    const std::string bad = std::string("ok \xFF\xFE then \xC3(") + "\xE4\xBD" + " end \xC3";
    const auto ids = tok().encode(bad, false, true);
    EXPECT_EQ(tok().decode(ids), bad);
    EXPECT_EQ(tok().token_text(tok().encode("\xFF", false, false).at(0)), "<0xFF>");

    // The streaming detokenizer never emits invalid UTF-8: bad bytes become U+FFFD.
    Detokenizer detok(tok());
    std::string out;
    for (const int32_t id : ids) out += detok.push(id);
    out += detok.flush();
    EXPECT_TRUE(utf8::is_valid(out));
    const std::string r = std::string(utf8::k_replacement);
    EXPECT_EQ(out, "ok " + r + r + " then " + r + "(" + r + r + " end " + r);
}

TEST_F(TokenizerGemma4, DetokenizerFlushReplacesATruncatedCharacter) {
    Detokenizer detok(tok());
    const auto e4 = tok().find_token("<0xE4>");
    ASSERT_TRUE(e4);
    EXPECT_EQ(detok.push(*e4), "");
    EXPECT_EQ(detok.flush(), utf8::k_replacement);
    EXPECT_EQ(detok.pending_bytes(), 0u);
    // A held-back lead byte followed by ASCII is invalid: U+FFFD, then the ASCII.
    EXPECT_EQ(detok.push(*e4), "");
    EXPECT_EQ(detok.push(tok().encode("a", false, false).at(0)),
              std::string(utf8::k_replacement) + "a");
}

TEST_F(TokenizerGemma4, LongInputsEncodeQuickly) {
    // ~100 KB of prose with newlines and one ~100 KB run without any split point (worst case for
    // a quadratic BPE).
    std::string prose;
    while (prose.size() < 100 * 1024) {
        prose += "The quick brown fox jumps over the lazy dog; Über café 中文测试 😀 1234.\n";
    }
    std::string run;
    while (run.size() < 100 * 1024) run += "abcabdabeacxyz";
    for (const std::string* text : {&prose, &run}) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto ids = tok().encode(*text, true, true);
        const double s = seconds_since(t0);
        std::printf("encode %zu bytes -> %zu tokens: %.3f s\n", text->size(), ids.size(), s);
        // Release: ~20 ms. Bound is for Debug builds on a shared 2-core CI runner.
        EXPECT_LT(s, 2.0);
        EXPECT_EQ(tok().decode(std::span(ids).subspan(1)), *text);
    }
}

// ---- hand-made vocabularies: BPE rules and load errors -----------------------------------------

struct MiniVocab {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    std::vector<std::string> merges;
    std::string model = "gemma4";
    bool write_merges = true;
    bool write_types = true;
};

// tokens: 0 <pad> 1 <eos> 2 <bos> 3 <unk>, then the given ones; bytes <0x00>..<0xFF> at the end.
MiniVocab mini_vocab(std::vector<std::string> normal, std::vector<std::string> merges) {
    MiniVocab v;
    v.tokens = {"<pad>", "<eos>", "<bos>", "<unk>"};
    v.types = {3, 3, 3, 3};
    for (auto& t : normal) {
        v.tokens.push_back(std::move(t));
        v.types.push_back(1);
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        v.tokens.emplace_back(name);
        v.types.push_back(6);
    }
    v.merges = std::move(merges);
    return v;
}

struct LoadedMini {
    std::vector<std::byte> bytes;
    std::unique_ptr<GgufFile> file;
};

LoadedMini write_mini(const MiniVocab& v) {
    GgufWriter w;
    w.add_string("general.architecture", "gemma4");
    w.add_string("tokenizer.ggml.model", v.model);
    w.add_array("tokenizer.ggml.tokens", GgufWriteArray::of_strings(std::span(v.tokens)));
    if (v.write_types) w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(v.types));
    if (v.write_merges)
        w.add_array("tokenizer.ggml.merges", GgufWriteArray::of_strings(std::span(v.merges)));
    w.add_u32("tokenizer.ggml.bos_token_id", 2);
    w.add_u32("tokenizer.ggml.eos_token_id", 1);
    LoadedMini out;
    out.bytes = w.to_bytes();
    out.file = std::make_unique<GgufFile>(GgufFile::parse(out.bytes, "mini.gguf"));
    return out;
}

std::vector<std::string> texts_of(const Tokenizer& t, const std::vector<int32_t>& ids) {
    std::vector<std::string> out;
    for (const int32_t id : ids) out.emplace_back(t.token_text(id));
    return out;
}

TEST(TokenizerBpe, LowerRankMergesFirst) {
    const auto m = write_mini(mini_vocab({"a", "b", "c", "ab", "bc"}, {"b c", "a b"}));
    const Tokenizer t = Tokenizer::from_gguf(*m.file);
    EXPECT_EQ(texts_of(t, t.encode("abc", false, false)), (std::vector<std::string>{"a", "bc"}));
}

TEST(TokenizerBpe, EqualRanksMergeLeftmostFirst) {
    const auto m = write_mini(mini_vocab({"a", "aa"}, {"a a"}));
    const Tokenizer t = Tokenizer::from_gguf(*m.file);
    EXPECT_EQ(texts_of(t, t.encode("aaa", false, false)), (std::vector<std::string>{"aa", "a"}));
    EXPECT_EQ(texts_of(t, t.encode("aaaaa", false, false)),
              (std::vector<std::string>{"aa", "aa", "a"}));
}

TEST(TokenizerBpe, SpacesBecomeMarkersAndNewlineRunsSplit) {
    const std::string sp = "\xE2\x96\x81";
    const auto m = write_mini(mini_vocab({"a", sp, sp + "a", "\n", "\n\n\n"}, {sp + " a"}));
    const Tokenizer t = Tokenizer::from_gguf(*m.file);
    // "\n\n\n" is a token and is emitted whole although no merge builds it; "\n\n" is not, so it
    // falls back to BPE over single newlines.
    EXPECT_EQ(texts_of(t, t.encode(" a\n\n\na a\n\n", false, false)),
              (std::vector<std::string>{sp + "a", "\n\n\n", "a", sp + "a", "\n", "\n"}));
    EXPECT_EQ(t.decode(t.encode(" a\n\n\na a\n\n", false, false)), " a\n\n\na a\n\n");
}

TEST(TokenizerBpe, MergesDoNotCrossSplitPoints) {
    const auto m = write_mini(mini_vocab({"a", "\n", "a\n"}, {"a \n"}));
    const Tokenizer t = Tokenizer::from_gguf(*m.file);
    EXPECT_EQ(texts_of(t, t.encode("a\n", false, false)), (std::vector<std::string>{"a", "\n"}));
}

TEST(TokenizerErrors, RejectsANonGemma4TokenizerModel) {
    MiniVocab v = mini_vocab({"a"}, {});
    v.model = "llama";
    const auto m = write_mini(v);
    try {
        (void)Tokenizer::from_gguf(*m.file);
        FAIL() << "no ModelFileError";
    } catch (const ModelFileError& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("llama"), std::string::npos) << e.what();
    }
}

TEST(TokenizerErrors, NamesMissingOrInconsistentKeys) {
    const auto expect_key = [](const MiniVocab& v, const std::string& key) {
        const auto m = write_mini(v);
        try {
            (void)Tokenizer::from_gguf(*m.file);
            ADD_FAILURE() << "no ModelFileError for " << key;
        } catch (const ModelFileError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
    };
    MiniVocab no_merges = mini_vocab({"a"}, {});
    no_merges.write_merges = false;
    expect_key(no_merges, "tokenizer.ggml.merges");
    MiniVocab no_types = mini_vocab({"a"}, {});
    no_types.write_types = false;
    expect_key(no_types, "tokenizer.ggml.token_type");
    MiniVocab short_types = mini_vocab({"a"}, {});
    short_types.types.pop_back();
    expect_key(short_types, "tokenizer.ggml.token_type");
    expect_key(mini_vocab({"a"}, {"ab"}), "tokenizer.ggml.merges");  // no separating space
}

TEST(TokenizerTinyModels, SubsetVocabularyLoadsAndRoundTrips) {
    const GgufFile file = GgufFile::open(k_models / "tiny-dense-q8_0.gguf");
    const Tokenizer t = Tokenizer::from_gguf(file);
    EXPECT_EQ(t.vocab_size(), 4096u);
    EXPECT_EQ(t.bos(), 2);
    const std::string text = "<|turn>user\nHello world, 日本語 😀<turn|>\n";
    const auto ids = t.encode(text, true, true);
    EXPECT_EQ(ids.front(), 2);
    EXPECT_EQ(t.decode(std::span(ids).subspan(1), false), text);
}

}  // namespace
}  // namespace vkllm
