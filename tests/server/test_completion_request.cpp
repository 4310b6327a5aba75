// OpenAI request validation: defaults, every field's type and range check (400 naming the field),
// and what reaches the chat template.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/completion_request.h"
#include "server/json_body.h"
#include "server/request_error.h"

namespace vkllm::server {
namespace {

using nlohmann::json;

RequestLimits limits() {
    RequestLimits l;
    l.max_tokens_limit = 1000;
    l.n_vocab = 5000;
    return l;
}

json chat(json extra = json::object()) {
    json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    body.update(extra);
    return body;
}

// The RequestError a body produces; fails the test when it is accepted.
RequestError chat_error(const json& body) {
    try {
        parse_chat_request(body, limits());
    } catch (const RequestError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << body.dump();
    return RequestError(0, "");
}

TEST(CompletionRequest, ChatDefaultsAndFields) {
    const CompletionRequest r =
        parse_chat_request(chat({{"stream", true},
                                 {"stream_options", {{"include_usage", true}}},
                                 {"max_completion_tokens", 7},
                                 {"temperature", 0},
                                 {"top_p", 0.5},
                                 {"top_k", 3},
                                 {"min_p", 0.1},
                                 {"presence_penalty", -1},
                                 {"frequency_penalty", 1.5},
                                 {"seed", 42},
                                 {"stop", "END"},
                                 {"logprobs", true},
                                 {"top_logprobs", 3},
                                 {"logit_bias", {{"17", -100}}},
                                 {"chat_template_kwargs", {{"enable_thinking", true}}},
                                 {"user", "ignored"}}),
                           limits());
    EXPECT_EQ(r.model, "m");
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
    EXPECT_EQ(r.max_tokens, 7u);
    EXPECT_EQ(r.sampling.temperature, 0.0f);
    EXPECT_EQ(r.sampling.top_k, 3);
    EXPECT_EQ(r.sampling.seed, 42u);
    EXPECT_TRUE(r.seed_given);
    EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
    EXPECT_TRUE(r.logprobs);
    EXPECT_EQ(r.top_logprobs, 3u);
    ASSERT_EQ(r.sampling.logit_bias.size(), 1u);
    EXPECT_EQ(r.sampling.logit_bias[0].first, 17);
    EXPECT_TRUE(r.enable_thinking);
    EXPECT_EQ(r.conversation["enable_thinking"], true);
    EXPECT_FALSE(r.parse_tool_calls);
}

TEST(CompletionRequest, ToolsAreRenderedUnlessToolChoiceIsNone) {
    const json tools = json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
    EXPECT_TRUE(parse_chat_request(chat({{"tools", tools}}), limits()).parse_tool_calls);
    const CompletionRequest off =
        parse_chat_request(chat({{"tools", tools}, {"tool_choice", "none"}}), limits());
    EXPECT_FALSE(off.parse_tool_calls);
    EXPECT_FALSE(off.conversation.contains("tools"));
}

TEST(CompletionRequest, RejectsBadFieldsNamingThem) {
    const std::pair<json, std::string> cases[] = {
        {chat({{"messages", "hi"}}), "messages"},
        {chat({{"messages", json::array()}}), "messages"},
        {chat({{"messages", {{{"role", "robot"}, {"content", "x"}}}}}), "messages[0].role"},
        {chat({{"messages", {{{"role", 3}, {"content", "x"}}}}}), "messages[0].role"},
        {chat({{"messages", {{{"role", "user"}, {"content", 5}}}}}), "messages[0].content"},
        {chat({{"messages", {1}}}), "messages[0]"},
        {chat({{"temperature", "hot"}}), "temperature"},
        {chat({{"temperature", 3}}), "temperature"},
        {chat({{"top_p", 0}}), "top_p"},
        {chat({{"top_k", -1}}), "top_k"},
        {chat({{"top_k", 1.5}}), "top_k"},
        {chat({{"max_tokens", -5}}), "max_tokens"},
        {chat({{"max_tokens", 0}}), "max_tokens"},
        {chat({{"max_tokens", 1001}}), "max_tokens"},
        {chat({{"max_tokens", 1e30}}), "max_tokens"},
        {chat({{"max_completion_tokens", "10"}}), "max_completion_tokens"},
        {chat({{"n", 2}}), "n"},
        {chat({{"stream", "yes"}}), "stream"},
        {chat({{"stream_options", {{"include_usage", 1}}}}), "stream_options.include_usage"},
        {chat({{"stop", 5}}), "stop"},
        {chat({{"stop", {"a", 1}}}), "stop[1]"},
        {chat({{"logprobs", "yes"}}), "logprobs"},
        {chat({{"top_logprobs", 21}}), "top_logprobs"},
        {chat({{"presence_penalty", 2.5}}), "presence_penalty"},
        {chat({{"logit_bias", {{"abc", 1}}}}), "logit_bias.abc"},
        {chat({{"logit_bias", {{"99999", 1}}}}), "logit_bias.99999"},
        {chat({{"logit_bias", {{"5", 500}}}}), "logit_bias.5"},
        {chat({{"model", 7}}), "model"},
        {chat({{"tools", "f"}}), "tools"},
        {chat({{"chat_template_kwargs", {{"enable_thinking", "yes"}}}}),
         "chat_template_kwargs.enable_thinking"},
    };
    for (const auto& [body, param] : cases) {
        const RequestError e = chat_error(body);
        EXPECT_EQ(e.status(), 400) << body.dump();
        EXPECT_EQ(e.param(), param) << body.dump() << " -> " << e.what();
        EXPECT_NE(std::string(e.what()).find(param), std::string::npos) << e.what();
    }
}

TEST(CompletionRequest, NullMeansDefault) {
    const CompletionRequest r =
        parse_chat_request(chat({{"temperature", nullptr}, {"stop", nullptr}}), limits());
    EXPECT_EQ(r.sampling.temperature, SamplingParams{}.temperature);
    EXPECT_TRUE(r.stop.empty());
}

TEST(CompletionRequest, CompletionPromptForms) {
    const json base = {{"model", "m"}};
    json a = base;
    a["prompt"] = "Once";
    EXPECT_EQ(parse_completion_request(a, limits()).prompt_text, "Once");
    a["prompt"] = json::array({"Twice"});
    EXPECT_EQ(parse_completion_request(a, limits()).prompt_text, "Twice");
    a["prompt"] = json::array({2, 10, 11});
    const CompletionRequest t = parse_completion_request(a, limits());
    EXPECT_TRUE(t.prompt_is_tokens);
    EXPECT_EQ(t.prompt_tokens, (std::vector<int32_t>{2, 10, 11}));
    a["logprobs"] = 2;
    EXPECT_EQ(parse_completion_request(a, limits()).top_logprobs, 2u);

    for (const json& bad : {json(5), json(""), json::array(), json::array({"a", "b"}),
                            json::array({1, 99999}), json::array({-1})}) {
        json b = base;
        b["prompt"] = bad;
        EXPECT_THROW(parse_completion_request(b, limits()), RequestError) << bad.dump();
    }
    json missing = base;
    EXPECT_THROW(parse_completion_request(missing, limits()), RequestError);
    json echo = base;
    echo["prompt"] = "x";
    echo["echo"] = true;
    EXPECT_THROW(parse_completion_request(echo, limits()), RequestError);
}

TEST(JsonBody, ReportsTheByteOffsetOfSyntaxErrors) {
    try {
        parse_json_object(R"({"a": 1,, "b": 2})");
        FAIL();
    } catch (const RequestError& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_NE(std::string(e.what()).find("at byte 9"), std::string::npos) << e.what();
    }
}

TEST(JsonBody, RejectsInvalidUtf8NonObjectsAndEmptyBodies) {
    EXPECT_THROW(parse_json_object("{\"a\": \"\xff\"}"), RequestError);
    EXPECT_THROW(parse_json_object("[1, 2]"), RequestError);
    EXPECT_THROW(parse_json_object(""), RequestError);
    EXPECT_THROW(parse_json_object("{\"a\": 1"), RequestError);
    EXPECT_EQ(parse_json_object("{\"a\": \"\xc3\xa9\"}")["a"], "\xc3\xa9");
}

TEST(JsonBody, DumpReplacesInvalidUtf8) {
    EXPECT_EQ(dump_json(json("a\xff")), "\"a\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace vkllm::server
