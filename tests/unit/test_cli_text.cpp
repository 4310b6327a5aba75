// The model-free parts of the text commands: tokenize output against llama.cpp ids, id parsing
// for detokenize / score, template rendering against Jinja renders, score JSON, chat prompts,
// and the run / chat generation options and the option checks, parsed by CLI11 as vkllm does.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/gguf_file.h"
#include "loader/tokenizer.h"
#include "runtime/generate/chat_prompt.h"
#include "tools/cli_checks.h"
#include "tools/cli_generation.h"
#include "tools/cli_text.h"

namespace vkllm::cli {
namespace {

const std::filesystem::path k_fixtures = VKLLM_TEST_FIXTURES_DIR;
const std::filesystem::path k_models = VKLLM_TEST_MODELS_DIR;

nlohmann::json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return nlohmann::json::parse(in);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

// The generation options after parsing `words` (the default of -n: `max_tokens`) as vkllm's
// run and chat do; a bad value throws CLI11's error, whose message names the option.
GenerationParams parse_generation(std::vector<std::string> words, int32_t max_tokens,
                                  uint64_t random_seed) {
    CLI::App app("test", "vkllm");
    GenerationArgs args;
    args.params.max_tokens = max_tokens;
    add_generation_options(app, args);
    std::reverse(words.begin(), words.end());  // CLI11 takes the words last first
    app.parse(words);
    return generation_params(args, random_seed);
}

// The value `text` for an option checked by `check`, as CLI11 converts it, or the error.
std::string checked(const CLI::Validator& check, const std::string& text) {
    CLI::App app("test", "vkllm");
    std::string value;
    app.add_option("--x", value)->check(check);
    try {
        app.parse(std::vector<std::string>{text, "--x"});
    } catch (const CLI::ParseError& e) {
        return e.what();
    }
    return value;
}

class CliText : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        file_ = std::make_unique<GgufFile>(GgufFile::open(k_models / "vocab-gemma4.gguf"));
        tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*file_));
    }
    static void TearDownTestSuite() {
        tok_.reset();
        file_.reset();
    }
    static const Tokenizer& tok() { return *tok_; }
    static inline std::unique_ptr<GgufFile> file_;
    static inline std::unique_ptr<Tokenizer> tok_;
};

TEST_F(CliText, TokenizeOutputMatchesLlamaCppIds) {
    const nlohmann::json cases =
        read_json(k_fixtures / "reference" / "tokenizer" / "vocab-gemma4.tokens.json");
    ASSERT_FALSE(cases.empty());
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        for (const bool bos : {true, false}) {
            for (const bool special : {true, false}) {
                const std::string key =
                    std::string("bos=") + (bos ? "1" : "0") + ",special=" + (special ? "1" : "0");
                if (!c.contains(key)) continue;
                const std::vector<int32_t> ids = tok().encode(text, bos, special);
                EXPECT_EQ(format_token_ids(ids, true), c.at(key).dump()) << key << " " << text;
                // The plain format parses back to the same ids, and so does the JSON one.
                EXPECT_EQ(parse_token_ids(format_token_ids(ids, false), tok().vocab_size()), ids);
                EXPECT_EQ(parse_token_ids(c.at(key).dump(), tok().vocab_size()), ids);
            }
        }
    }
}

TEST(CliTokenIds, FormatsAndParsesEveryAcceptedForm) {
    const std::vector<int32_t> ids = {2, 9259, 1902};
    EXPECT_EQ(format_token_ids(ids, true), "[2,9259,1902]");
    EXPECT_EQ(format_token_ids(ids, false), "2 9259 1902");
    EXPECT_EQ(format_token_ids({}, true), "[]");
    EXPECT_EQ(parse_token_ids(" [2, 9259,\n1902] ", 0), ids);
    EXPECT_EQ(parse_token_ids("2,9259,1902", 0), ids);
    EXPECT_EQ(parse_token_ids("2 , 9259\t1902\n", 0), ids);
    EXPECT_TRUE(parse_token_ids("  \n", 0).empty());
}

TEST(CliTokenIds, RejectsBadIdsNamingTheItem) {
    EXPECT_NE(error_of([] { parse_token_ids("1 2 x3", 0); }).find("token 2"), std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("1 -5", 0); }).find("-5"), std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("1,2,300", 100); }).find("300"), std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("[1, \"a\"]", 0); }).find("token 1"),
              std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("[1, 2", 0); }).find("malformed JSON"),
              std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("1.5", 0); }).find("1.5"), std::string::npos);
    EXPECT_NE(error_of([] { parse_token_ids("99999999999999999999", 0); }).find("token 0"),
              std::string::npos);
}

TEST(CliTemplate, RendersExactlyLikeJinja) {
    const nlohmann::json cases =
        read_json(k_fixtures / "reference" / "chat" / "gemma4-template.renders.json");
    ASSERT_FALSE(cases.empty());
    for (const auto& c : cases) {
        nlohmann::json request = c;
        request.erase("rendered");
        EXPECT_EQ(render_template_request(request.dump()), c.at("rendered").get<std::string>())
            << request.dump();
    }
}

TEST(CliTemplate, ReportsMalformedJsonAndBadFields) {
    EXPECT_NE(error_of([] { render_template_request("{\"messages\": ["); }).find("malformed JSON"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  render_template_request(R"({"messages": [{"role": "wizard", "content": "x"}]})");
              }).find("messages[0].role"),
              std::string::npos);
}

TEST_F(CliText, ChatPromptHoldsExactlyOneBos) {
    const nlohmann::json conv = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                 {"add_generation_prompt", true}};
    const std::vector<int32_t> ids = encode_chat_prompt(tok(), conv);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids[0], tok().bos());
    EXPECT_EQ(std::count(ids.begin(), ids.end(), tok().bos()), 1);
    EXPECT_EQ(ids[1], tok().start_of_turn().value());
    EXPECT_EQ(encode_rendered_prompt(tok(), "<bos><|turn>user\nHi"),
              encode_rendered_prompt(tok(), "<|turn>user\nHi"));
}

TEST(CliScore, WritesOneTopListPerPosition) {
    const std::vector<std::vector<std::pair<int32_t, float>>> positions = {
        {{285, -0.00324f}, {1843, -6.8584f}}, {{7, -std::numeric_limits<float>::infinity()}}};
    const std::string text = format_score_json(positions);
    const nlohmann::json j = nlohmann::json::parse(text);
    ASSERT_EQ(j.at("positions").size(), 2u);
    EXPECT_EQ(j["positions"][0]["top"][0][0], 285);
    EXPECT_FLOAT_EQ(j["positions"][0]["top"][0][1].get<float>(), -0.00324f);
    EXPECT_FLOAT_EQ(j["positions"][0]["top"][1][1].get<float>(), -6.8584f);
    EXPECT_TRUE(j["positions"][1]["top"][0][1].is_null());
}

TEST(CliGeneration, ParsesSamplingOptions) {
    const GenerationParams g = parse_generation(
        {"-n",      "12",          "--temp",  "0.5", "--top-k",          "7",
         "--top-p", "0.9",         "--min-p", "0",   "--repeat-penalty", "1.1",
         "--seed",  "99",          "--stop",  "a",   "--stop=\n\n",      "--presence-penalty",
         "0.25",    "--ignore-eos"},
        256, 5);
    EXPECT_EQ(g.max_tokens, 12);
    EXPECT_FLOAT_EQ(g.sampling.temperature, 0.5f);
    EXPECT_EQ(g.sampling.top_k, 7);
    EXPECT_FLOAT_EQ(g.sampling.top_p, 0.9f);
    EXPECT_FLOAT_EQ(g.sampling.min_p, 0.0f);
    EXPECT_FLOAT_EQ(g.sampling.repeat_penalty, 1.1f);
    EXPECT_FLOAT_EQ(g.sampling.presence_penalty, 0.25f);
    EXPECT_EQ(g.sampling.seed, 99u);
    EXPECT_EQ(g.stop, (std::vector<std::string>{"a", "\n\n"}));
    EXPECT_TRUE(g.ignore_eos);

    const GenerationParams d = parse_generation({}, 256, 5);
    EXPECT_EQ(d.max_tokens, 256);
    EXPECT_EQ(d.sampling.seed, 5u);
    EXPECT_FALSE(d.ignore_eos);
    EXPECT_FLOAT_EQ(d.sampling.temperature, SamplingParams().temperature);
}

TEST(CliGeneration, StopTakesOneStringEachTimeEvenWithADash) {
    const GenerationParams g = parse_generation({"--stop", "-x", "--stop", "b", "-n", "3"}, 1, 0);
    EXPECT_EQ(g.stop, (std::vector<std::string>{"-x", "b"}));
    EXPECT_EQ(g.max_tokens, 3);
}

TEST(CliGeneration, RejectsBadOptionValuesNamingTheOption) {
    const auto error = [](std::vector<std::string> words) {
        return error_of([&] { parse_generation(std::move(words), 1, 0); });
    };
    EXPECT_NE(error({"--temp", "hot"}).find("--temp"), std::string::npos);
    EXPECT_NE(error({"-n", "-7"}).find("-n"), std::string::npos);
    EXPECT_NE(error({"--top-p", "2"}).find("--top-p"), std::string::npos);
    EXPECT_NE(error({"--top-p", "0"}).find("--top-p"), std::string::npos);
    EXPECT_NE(error({"--seed", "-1"}).find("--seed"), std::string::npos);
    EXPECT_NE(error({"--top-k", "3x"}).find("--top-k"), std::string::npos);
    EXPECT_NE(error({"--temp", "nan"}).find("--temp"), std::string::npos);
    EXPECT_NE(error({"--top-k"}).find("--top-k"), std::string::npos);  // no value
}

TEST(CliChecks, ReadDecimalOnlyAndNameTheRange) {
    EXPECT_NE(checked(integer_in(1, 64), "010").find("got '010'"), std::string::npos);  // octal
    EXPECT_EQ(checked(integer_in(1, 64), "64"), "64");
    EXPECT_EQ(checked(integer_in(1, 64), "65"), "--x: expected an integer in [1, 64], got '65'");
    EXPECT_NE(checked(integer_in(1, 64), "0x10").find("got '0x10'"), std::string::npos);
    EXPECT_NE(checked(integer_in(0, int64_t{1} << 24), "x").find("[0, 2^24]"), std::string::npos);
    EXPECT_EQ(checked(integer_at_least(-1), "-1"), "-1");
    EXPECT_NE(checked(integer_at_least(0), "-1").find("[0, inf)"), std::string::npos);
    EXPECT_EQ(checked(any_u64(), "18446744073709551615"), "18446744073709551615");
    EXPECT_NE(checked(any_u64(), "18446744073709551616").find("--x"), std::string::npos);
    EXPECT_NE(checked(any_u64(), "-1").find("--x"), std::string::npos);
    EXPECT_EQ(checked(number_in(0, 1, /*min_excluded=*/true), "1"), "1");
    EXPECT_NE(checked(number_in(0, 1, /*min_excluded=*/true), "0").find("(0, 1]"),
              std::string::npos);
    EXPECT_NE(checked(number_at_least(0), "inf").find("[0, inf)"), std::string::npos);
    EXPECT_EQ(checked(finite_number(), "-2.5"), "-2.5");
    EXPECT_NE(checked(finite_number(), "nan").find("finite"), std::string::npos);
}

}  // namespace
}  // namespace vkllm::cli
