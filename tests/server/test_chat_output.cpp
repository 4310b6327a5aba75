// Reasoning / content / tool-call splitting of streamed Gemma 4 output, at every split point.
#include <gtest/gtest.h>

#include <string>

#include "server/chat_output.h"
#include "server/tool_call_parser.h"

namespace vkllm::server {
namespace {

using nlohmann::json;

ChatDelta run_split(const std::string& text, bool tools, size_t piece) {
    ChatOutputParser p(tools);
    ChatDelta all;
    for (size_t i = 0; i < text.size(); i += piece) all.append(p.push(text.substr(i, piece)));
    all.append(p.finish());
    return all;
}

TEST(ToolCallParser, ParsesGemmaArgumentSyntax) {
    const auto call = parse_tool_call(
        "call:get_weather{city:<|\"|>Paris, FR<|\"|>,days:3,metric:true,ratio:0.5,"
        "tags:[<|\"|>a<|\"|>,2],opts:{deep:None}}");
    ASSERT_TRUE(call);
    EXPECT_EQ(call->name, "get_weather");
    EXPECT_EQ(call->arguments, json::parse(R"({"city":"Paris, FR","days":3,"metric":true,
        "ratio":0.5,"tags":["a",2],"opts":{"deep":null}})"));
}

TEST(ToolCallParser, AcceptsEmptyArgumentsAndRejectsJunk) {
    ASSERT_TRUE(parse_tool_call("call:now{}"));
    EXPECT_EQ(parse_tool_call("call:now{}")->arguments, json::object());
    for (const char* bad : {"", "call:", "call:{}", "nocall:f{}", "call:f", "call:f{a:1",
                            "call:f{a:<|\"|>x}", "call:f{a:1}}", "call:f{:1}"}) {
        EXPECT_FALSE(parse_tool_call(bad)) << bad;
    }
    std::string deep = "call:f{a:";
    for (int i = 0; i < 200; ++i) deep += "[";
    EXPECT_FALSE(parse_tool_call(deep));  // bounded recursion, no crash
}

TEST(ChatOutput, SplitsReasoningContentAndToolCallsAtEveryPieceSize) {
    const std::string text =
        "<|channel>thought\nLet me think.<channel|>The answer<|tool_call>call:f{x:1}<tool_call|>";
    for (size_t piece = 1; piece <= text.size(); ++piece) {
        const ChatDelta d = run_split(text, true, piece);
        EXPECT_EQ(d.reasoning, "Let me think.") << piece;
        EXPECT_EQ(d.content, "The answer") << piece;
        ASSERT_EQ(d.tool_calls.size(), 1u) << piece;
        EXPECT_EQ(d.tool_calls[0].name, "f");
    }
}

TEST(ChatOutput, WithoutToolsACallIsPlainContent) {
    const std::string text = "a<|tool_call>call:f{}<tool_call|>";
    EXPECT_EQ(run_split(text, false, 3).content, text);
}

TEST(ChatOutput, MalformedCallIsPassedThroughAsContent) {
    const ChatDelta d = run_split("x<|tool_call>call:f{oops<tool_call|>y", true, 2);
    EXPECT_TRUE(d.tool_calls.empty());
    EXPECT_EQ(d.content, "x<|tool_call>call:f{oops<tool_call|>y");
}

TEST(ChatOutput, HeldBackPrefixIsReleasedWhenItIsNotAMarker) {
    ChatOutputParser p(true);
    EXPECT_EQ(p.push("a <|").content, "a ");
    EXPECT_EQ(p.push("x").content, "<|x");
    EXPECT_EQ(p.push("<|chan").content, "");
    EXPECT_EQ(p.finish().content, "<|chan");
}

TEST(ChatOutput, UnterminatedThinkingEndsAsReasoning) {
    const ChatDelta d = run_split("<|channel>thought\nstill thinking", false, 4);
    EXPECT_EQ(d.reasoning, "still thinking");
    EXPECT_EQ(d.content, "");
}

}  // namespace
}  // namespace vkllm::server
