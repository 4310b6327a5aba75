// Gemma 4 chat template renderer against Jinja2 renders of the template embedded in the GGUF:
// the upstream fixture, extra cases (tool calls/results, nested schemas, reasoning, media, see
// tests/fixtures/reference/chat/make_gemma4_extra_renders.py), and input validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "loader/chat_template.h"
#include "loader/gguf_file.h"
#include "loader/tokenizer.h"

namespace vkllm {
namespace {

using json = nlohmann::json;

const std::filesystem::path k_chat_fixtures =
    std::filesystem::path(VKLLM_TEST_FIXTURES_DIR) / "reference" / "chat";

json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return json::parse(in);
}

// Each fixture case is the render input plus "rendered".
void expect_renders_match(const json& cases) {
    ASSERT_FALSE(cases.empty());
    for (size_t i = 0; i < cases.size(); ++i) {
        json input = cases[i];
        const std::string want = input.at("rendered").get<std::string>();
        input.erase("rendered");
        std::string got;
        ASSERT_NO_THROW(got = render_gemma4_chat(input)) << "case " << i << ": " << input.dump();
        EXPECT_EQ(got, want) << "case " << i << ": " << input.dump();
    }
}

TEST(ChatTemplateGemma4, MatchesReferenceRenders) {
    expect_renders_match(read_json(k_chat_fixtures / "gemma4-template.renders.json"));
}

TEST(ChatTemplateGemma4, MatchesExtraJinjaRenders) {
    expect_renders_match(read_json(k_chat_fixtures / "gemma4-template.extra-renders.json"));
}

TEST(ChatTemplateGemma4, RendersTheSpecExample) {
    const json conv = {
        {"messages",
         {{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "Hi"}}}}};
    EXPECT_EQ(render_gemma4_chat(conv),
              "<bos><|turn>system\nS<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n"
              "<|channel>thought\n<channel|>");
}

TEST(ChatTemplateGemma4, RenderedPromptTokenizesWithExactlyOneBos) {
    const GgufFile file =
        GgufFile::open(std::filesystem::path(VKLLM_TEST_MODELS_DIR) / "tiny-dense-q8_0.gguf");
    const Tokenizer tok = Tokenizer::from_gguf(file);
    const json conv = {{"messages", {{{"role", "user"}, {"content", "Hello"}}}}};
    const auto ids =
        tok.encode(render_gemma4_chat(conv), /*add_bos=*/false, /*parse_special=*/true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), tok.bos());
    EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.bos()), 1);
    EXPECT_EQ(ids[1], tok.start_of_turn().value());
}

void expect_invalid(const json& conv, const std::string& needle) {
    try {
        (void)render_gemma4_chat(conv);
        ADD_FAILURE() << "no std::invalid_argument for " << conv.dump();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
            << "message: " << e.what() << "\nexpected to contain: " << needle;
    }
}

TEST(ChatTemplateGemma4, RejectsUnknownRolesNamingTheField) {
    expect_invalid(
        {{"messages",
          {{{"role", "user"}, {"content", "a"}}, {{"role", "robot"}, {"content", "b"}}}}},
        "messages[1].role: unknown role \"robot\"");
    expect_invalid({{"messages", {{{"content", "no role"}}}}}, "messages[0].role");
    expect_invalid({{"messages", {{{"role", 7}, {"content", "x"}}}}}, "messages[0].role");
}

TEST(ChatTemplateGemma4, RejectsWrongTypesNamingTheField) {
    const json user = {{"role", "user"}, {"content", "x"}};
    expect_invalid(json::array(), "conversation");
    expect_invalid({{"messages", "hi"}}, "messages: expected a list");
    expect_invalid({{"messages", json::array()}}, "messages: must not be empty");
    expect_invalid({{"messages", {"just a string"}}}, "messages[0]: expected an object");
    expect_invalid({{"messages", {{{"role", "user"}, {"content", 5}}}}}, "messages[0].content");
    expect_invalid({{"messages", {{{"role", "user"}, {"content", {{{"type", "text"}}}}}}}},
                   "messages[0].content[0].text");
    expect_invalid({{"messages", {{{"role", "system"}, {"content", {1, 2}}}}}},
                   "messages[0].content");
    expect_invalid({{"messages", {user}}, {"enable_thinking", "yes"}}, "enable_thinking");
    expect_invalid({{"messages", {user}}, {"add_generation_prompt", 1}}, "add_generation_prompt");
    expect_invalid({{"messages", {user}}, {"tools", {{"a", 1}}}}, "tools: expected a list");
    expect_invalid({{"messages", {user}}, {"tools", {{{"type", "function"}}}}},
                   "tools[0].function");
    expect_invalid({{"messages", {user}}, {"tools", {{{"function", {{"description", "d"}}}}}}},
                   "tools[0].function.name");
    expect_invalid(
        {{"messages", {user}},
         {"tools", {{{"function", {{"name", "f"}, {"parameters", {{"properties", {1, 2}}}}}}}}}},
        "tools[0].function.parameters.properties");
    const json call = {{"role", "assistant"},
                       {"tool_calls", {{{"id", "a"}, {"function", {{"name", "f"}}}}}}};
    expect_invalid({{"messages", {user, {{"role", "assistant"}, {"tool_calls", {{{"id", "a"}}}}}}}},
                   "messages[1].tool_calls[0].function");
    expect_invalid(
        {{"messages", {user, call, {{"role", "tool"}, {"tool_call_id", "zzz"}, {"content", "r"}}}}},
        "messages[2].tool_call_id");
}

}  // namespace
}  // namespace vkllm
