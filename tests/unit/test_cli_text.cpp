// The model-free parts of the text commands: tokenize output against llama.cpp ids, id parsing
// for detokenize / score, template rendering against Jinja renders, score JSON, chat prompts,
// and the run / chat option parsing.
#include <gtest/gtest.h>

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
#include "tools/cli_args.h"
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

Args make_args(std::vector<std::string> words, std::vector<std::string> flags = {}) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    return Args(static_cast<int>(argv.size()), argv.data(), 0, std::move(flags));
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
    const Args args = make_args(
        {"-n",      "12",          "--temp",  "0.5", "--top-k",          "7",
         "--top-p", "0.9",         "--min-p", "0",   "--repeat-penalty", "1.1",
         "--seed",  "99",          "--stop",  "a",   "--stop=\n\n",      "--presence-penalty",
         "0.25",    "--ignore-eos"},
        {"--ignore-eos"});
    const GenerationParams g = generation_from_args(args, 256, 5);
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

    const GenerationParams d = generation_from_args(make_args({}), 256, 5);
    EXPECT_EQ(d.max_tokens, 256);
    EXPECT_EQ(d.sampling.seed, 5u);
    EXPECT_FALSE(d.ignore_eos);
}

TEST(CliGeneration, RejectsBadOptionValuesNamingTheOption) {
    EXPECT_NE(error_of([] {
                  generation_from_args(make_args({"--temp", "hot"}), 1, 0);
              }).find("--temp"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  generation_from_args(make_args({"-n", "-7"}), 1, 0);
              }).find("-n"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  generation_from_args(make_args({"--top-p", "2"}), 1, 0);
              }).find("top_p"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  generation_from_args(make_args({"--seed", "-1"}), 1, 0);
              }).find("--seed"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  generation_from_args(make_args({"--top-k", "3x"}), 1, 0);
              }).find("--top-k"),
              std::string::npos);
}

}  // namespace
}  // namespace vkllm::cli
