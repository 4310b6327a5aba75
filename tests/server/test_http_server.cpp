// The whole server on loopback (port 0) with a scripted model: OpenAI responses and streams,
// errors in OpenAI shape, keep-alive, pipelining, timeouts, disconnects and the slot accounting
// behind them.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/server_app.h"
#include "tests/server/http_client.h"
#include "tests/server/scripted_model.h"

namespace vkllm::server {
namespace {

using nlohmann::json;
using testing::get;
using testing::HttpReply;
using testing::post;
using testing::RawClient;

const std::string k_auth = "Authorization: Bearer test-key\r\n";

class ServerTest : public ::testing::Test {
  protected:
    virtual std::vector<int32_t> script() const { return testing::word_script(false); }
    virtual void configure(ServeOptions&) const {}

    void SetUp() override {
        auto model = std::make_unique<testing::ScriptedModel>(2, 256, script());
        model_ = model.get();
        model_->from_prefill_end = scripted_answer_;
        model_->decode_delay = std::chrono::milliseconds(1);
        ServeOptions o;
        o.http.host = "127.0.0.1";
        o.http.port = 0;
        o.http.limits.max_body_bytes = 64 * 1024;
        o.http.read_timeout = std::chrono::milliseconds(400);
        o.api.model_id = "tiny";
        o.api.model_file = "tiny.gguf";
        o.api.api_key = "test-key";
        o.api.max_tokens_limit = 512;
        o.engine.max_queue = 2;
        o.handle_signals = false;
        configure(o);
        app_ = std::make_unique<ServerApp>(o);
        std::promise<uint16_t> port;
        auto served = std::make_shared<std::unique_ptr<testing::ScriptedModel>>(std::move(model));
        thread_ = std::thread([this, &port, served] {
            app_->run(
                [served] {
                    return std::make_unique<testing::ScriptedServedModel>(std::move(*served));
                },
                [&port](uint16_t p) { port.set_value(p); });
        });
        port_ = port.get_future().get();
        for (int i = 0; i < 500 && health().status != 200; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    void TearDown() override {
        app_->request_stop();
        thread_.join();
    }

    HttpReply exchange(const std::string& raw) {
        RawClient c(port_);
        c.send(raw);
        return c.read_reply();
    }
    HttpReply health() { return exchange(get("/health")); }
    HttpReply chat(const json& body) {
        return exchange(post("/v1/chat/completions", body.dump(), k_auth));
    }
    json chat_body(json extra = json::object()) {
        json b = {{"model", "tiny"},
                  {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                  {"temperature", 0},
                  {"max_tokens", 6}};
        b.update(extra);
        return b;
    }
    // Waits until no slot is busy (requests end asynchronously after a disconnect).
    bool slots_idle() {
        for (int i = 0; i < 1000; ++i) {
            const HttpReply h = health();
            if (h.status == 200 && json::parse(h.body)["slots_busy"] == 0 &&
                json::parse(h.body)["queue_depth"] == 0) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }
    static std::vector<json> sse_events(const std::string& body, bool* done) {
        std::vector<json> out;
        *done = false;
        size_t pos = 0;
        while ((pos = body.find("data: ", pos)) != std::string::npos) {
            const size_t end = body.find("\n\n", pos);
            const std::string data = body.substr(pos + 6, end - pos - 6);
            if (data == "[DONE]")
                *done = true;
            else
                out.push_back(json::parse(data));
            pos = end;
        }
        return out;
    }

    bool scripted_answer_ = false;
    testing::ScriptedModel* model_ = nullptr;
    std::unique_ptr<ServerApp> app_;
    std::thread thread_;
    uint16_t port_ = 0;
};

TEST_F(ServerTest, HealthAndModels) {
    const HttpReply h = health();
    ASSERT_EQ(h.status, 200);
    EXPECT_EQ(json::parse(h.body)["slots_total"], 2);
    const HttpReply m = exchange(get("/v1/models", k_auth));
    ASSERT_EQ(m.status, 200);
    EXPECT_EQ(json::parse(m.body)["data"][0]["id"], "tiny");
}

TEST_F(ServerTest, ChatCompletionHasOpenAiShape) {
    const HttpReply r = chat(chat_body());
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(j["model"], "tiny");
    EXPECT_GT(j["created"].get<int64_t>(), 1700000000);
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_FALSE(j["choices"][0]["message"]["content"].get<std::string>().empty());
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 6);
    EXPECT_EQ(j["usage"]["total_tokens"],
              j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
}

TEST_F(ServerTest, StreamingEqualsNonStreaming) {
    const std::string whole =
        json::parse(chat(chat_body()).body)["choices"][0]["message"]["content"];
    const HttpReply r =
        chat(chat_body({{"stream", true}, {"stream_options", {{"include_usage", true}}}}));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("content-type"), "text/event-stream");
    bool done = false;
    const auto events = sse_events(r.body, &done);
    EXPECT_TRUE(done);
    std::string text;
    for (const json& e : events) {
        EXPECT_EQ(e["object"], "chat.completion.chunk");
        if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content")) {
            text += e["choices"][0]["delta"]["content"].get<std::string>();
        }
    }
    EXPECT_EQ(text, whole);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], "length");
    EXPECT_TRUE(events.back()["choices"].empty());
    EXPECT_EQ(events.back()["usage"]["completion_tokens"], 6);
}

TEST_F(ServerTest, CompletionWithLogprobsAndStop) {
    json body = {{"prompt", "Say"}, {"max_tokens", 30}, {"temperature", 0}, {"logprobs", 2}};
    HttpReply r = exchange(post("/v1/completions", body.dump(), k_auth));
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "text_completion");
    const auto& lp = j["choices"][0]["logprobs"];
    EXPECT_EQ(lp["tokens"].size(), lp["token_logprobs"].size());
    EXPECT_EQ(lp["top_logprobs"][0].size(), 2u);
    const std::string text = j["choices"][0]["text"];
    ASSERT_GT(text.size(), 6u);
    body["stop"] = text.substr(4, 3);
    r = exchange(post("/v1/completions", body.dump(), k_auth));
    j = json::parse(r.body);
    EXPECT_EQ(j["choices"][0]["text"], text.substr(0, 4));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
}

TEST_F(ServerTest, ErrorsHaveOpenAiShapeAndStatus) {
    struct Case {
        std::string raw;
        int status;
        std::string needle;
    };
    std::string long_prompt;
    for (int i = 0; i < 400; ++i) long_prompt += " word" + std::to_string(i);
    const Case cases[] = {
        {get("/nope", k_auth), 404, "no route"},
        {get("/v1/chat/completions", k_auth), 405, "not allowed"},
        {post("/v1/chat/completions", "{\"messages\": [", k_auth), 400, "at byte"},
        {post("/v1/chat/completions", "{\"messages\": \"\xff\"}", k_auth), 400, "UTF-8"},
        {post("/v1/chat/completions", chat_body({{"model", "gpt-9"}}).dump(), k_auth), 404,
         "gpt-9"},
        {post("/v1/chat/completions", chat_body({{"max_tokens", -1}}).dump(), k_auth), 400,
         "max_tokens"},
        {post("/v1/chat/completions", chat_body({{"n", 3}}).dump(), k_auth), 400, "'n'"},
        {post("/v1/completions", json{{"prompt", long_prompt}}.dump(), k_auth), 400,
         "context holds 256"},
        {post("/v1/chat/completions", chat_body().dump()), 401, "API key"},
        {post("/v1/chat/completions", chat_body().dump(), "Authorization: Bearer wrong\r\n"), 401,
         "invalid"},
        {post("/v1/chat/completions", std::string(70000, ' '), k_auth), 413, "exceeds"},
        {"POST /v1/completions HTTP/1.1\r\n\r\n", 411, "Content-Length"},
    };
    for (const Case& c : cases) {
        const HttpReply r = exchange(c.raw);
        EXPECT_EQ(r.status, c.status) << c.raw.substr(0, 60) << " -> " << r.body;
        const json j = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(j.is_object()) << r.body;
        EXPECT_TRUE(j["error"]["message"].is_string());
        EXPECT_TRUE(j["error"].contains("type"));
        EXPECT_TRUE(j["error"].contains("param"));
        EXPECT_TRUE(j["error"].contains("code"));
        EXPECT_NE(r.body.find(c.needle), std::string::npos) << r.body;
    }
    EXPECT_TRUE(slots_idle());
}

TEST_F(ServerTest, KeepAliveAndPipelining) {
    RawClient c(port_);
    c.send(get("/health"));
    EXPECT_EQ(c.read_reply().status, 200);
    c.send(get("/health") + post("/tokenize", R"({"content":"hi there"})", k_auth) + get("/nope"));
    EXPECT_EQ(c.read_reply().status, 200);
    const HttpReply t = c.read_reply();
    EXPECT_EQ(t.status, 200);
    EXPECT_FALSE(json::parse(t.body)["tokens"].empty());
    EXPECT_EQ(c.read_reply().status, 404);
}

TEST_F(ServerTest, ChunkedRequestBodyAndExpectContinue) {
    RawClient c(port_);
    const std::string body = json{{"tokens", {2, 10}}}.dump();
    c.send("POST /detokenize HTTP/1.1\r\n" + k_auth +
           "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 100);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size() - 5);
    c.send("5\r\n" + body.substr(0, 5) + "\r\n" + size + "\r\n");
    c.send(body.substr(5) + "\r\n0\r\n\r\n");
    const HttpReply r = c.read_reply();
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ServerTest, SlowHeadersTimeOutWith408) {
    RawClient c(port_);
    c.send("GET /health HTTP/1.1\r\nHost: t\r\n");
    const HttpReply r = c.read_reply();
    EXPECT_EQ(r.status, 408);
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_EQ(health().status, 200);
}

TEST_F(ServerTest, DisconnectMidStreamFreesTheSlot) {
    model_->decode_delay = std::chrono::milliseconds(5);
    {
        RawClient c(port_);
        c.send(post("/v1/chat/completions",
                    chat_body({{"stream", true}, {"max_tokens", 400}}).dump(), k_auth));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The cancellation lands at the engine's next step, after the connection is gone.
    bool cancelled = false;
    for (int i = 0; i < 1000 && !cancelled; ++i) {
        cancelled =
            exchange(get("/metrics", k_auth)).body.find("vkllm_requests_cancelled_total 1") !=
            std::string::npos;
        if (!cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(slots_idle());
    EXPECT_EQ(chat(chat_body()).status, 200);
}

TEST_F(ServerTest, QueueFullGives429) {
    model_->decode_delay = std::chrono::milliseconds(20);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 4; ++i) {  // 2 slots + a queue of 2
        clients.push_back(std::make_unique<RawClient>(port_));
        clients.back()->send(post("/v1/chat/completions",
                                  chat_body({{"max_tokens", 100}, {"stream", true}}).dump(),
                                  k_auth));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const HttpReply r = chat(chat_body());
    EXPECT_EQ(r.status, 429) << r.body;
    clients.clear();
    EXPECT_TRUE(slots_idle());
}

TEST_F(ServerTest, ConcurrentStreamsGetTheirSequentialText) {
    std::vector<std::string> prompts, expected;
    for (int i = 0; i < 4; ++i) {  // 2 slots + a queue of 2
        prompts.push_back("Question " + std::string(static_cast<size_t>(i), '?'));
        expected.push_back(json::parse(
            chat(chat_body({{"messages", {{{"role", "user"}, {"content", prompts.back()}}}},
                            {"max_tokens", 12}}))
                .body)["choices"][0]["message"]["content"]);
    }
    std::vector<std::future<std::string>> futures;
    for (int i = 0; i < 4; ++i) {
        futures.push_back(std::async(std::launch::async, [&, i] {
            const HttpReply r = chat(chat_body(
                {{"messages", {{{"role", "user"}, {"content", prompts[static_cast<size_t>(i)]}}}},
                 {"max_tokens", 12},
                 {"stream", true}}));
            bool done = false;
            std::string text;
            for (const json& e : sse_events(r.body, &done)) {
                if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content")) {
                    text += e["choices"][0]["delta"]["content"].get<std::string>();
                }
            }
            return text;
        }));
    }
    for (size_t i = 0; i < futures.size(); ++i) EXPECT_EQ(futures[i].get(), expected[i]) << i;
    EXPECT_GT(model_->max_batch.load(), 1u);
}

TEST_F(ServerTest, ShutdownEndsOpenStreamsWithAnError) {
    model_->decode_delay = std::chrono::milliseconds(5);
    RawClient c(port_);
    c.send(post("/v1/chat/completions", chat_body({{"stream", true}, {"max_tokens", 200}}).dump(),
                k_auth));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    app_->request_stop();
    const HttpReply r = c.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("shutting down"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

class ConnectionLimitTest : public ServerTest {
  protected:
    void configure(ServeOptions& o) const override { o.http.max_connections = 2; }
};

TEST_F(ConnectionLimitTest, RefusesConnectionsBeyondTheLimitWith503) {
    auto a = std::make_unique<RawClient>(port_);
    auto b = std::make_unique<RawClient>(port_);
    a->send(get("/health"));
    b->send(get("/health"));
    EXPECT_EQ(a->read_reply().status, 200);
    EXPECT_EQ(b->read_reply().status, 200);
    RawClient c(port_);
    const HttpReply refused = c.read_reply();
    EXPECT_EQ(refused.status, 503);
    EXPECT_NE(refused.body.find("max-connections"), std::string::npos);
    a.reset();  // a slot frees up once the server sees the close
    for (int i = 0; i < 200; ++i) {
        RawClient d(port_);
        d.send(get("/health"));
        if (d.read_reply().status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "no connection accepted after one closed";
}

// The model "answers" with thinking, text and a tool call, then hands the turn over.
class ToolCallServerTest : public ServerTest {
  protected:
    ToolCallServerTest() { scripted_answer_ = true; }
    std::vector<int32_t> script() const override {
        std::vector<int32_t> ids = testing::test_tokenizer().encode(
            "<|channel>thought\nThe user wants the time.<channel|>Checking."
            "<|tool_call>call:get_time{tz:<|\"|>UTC<|\"|>,precise:true}<tool_call|>",
            false, true);
        ids.push_back(*testing::test_tokenizer().find_token("<|tool_response>"));
        return ids;
    }
    json tool_body(bool stream) {
        return chat_body(
            {{"max_tokens", 100},
             {"stream", stream},
             {"chat_template_kwargs", {{"enable_thinking", true}}},
             {"tools",
              {{{"type", "function"},
                {"function", {{"name", "get_time"}, {"parameters", {{"type", "object"}}}}}}}}});
    }
};

TEST_F(ToolCallServerTest, SplitsReasoningContentAndToolCalls) {
    const HttpReply r = chat(tool_body(false));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    const json& msg = j["choices"][0]["message"];
    EXPECT_EQ(msg["reasoning_content"], "The user wants the time.");
    EXPECT_EQ(msg["content"], "Checking.");
    ASSERT_EQ(msg["tool_calls"].size(), 1u);
    EXPECT_EQ(msg["tool_calls"][0]["type"], "function");
    EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_time");
    EXPECT_EQ(json::parse(msg["tool_calls"][0]["function"]["arguments"].get<std::string>()),
              json::parse(R"({"tz":"UTC","precise":true})"));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
}

TEST_F(ToolCallServerTest, StreamsTheSameParts) {
    const HttpReply r = chat(tool_body(true));
    ASSERT_EQ(r.status, 200);
    bool done = false;
    std::string reasoning, content, name, finish;
    for (const json& e : sse_events(r.body, &done)) {
        const json& d = e["choices"][0]["delta"];
        if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
        if (d.contains("content")) content += d["content"].get<std::string>();
        if (d.contains("tool_calls")) name = d["tool_calls"][0]["function"]["name"];
        if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(reasoning, "The user wants the time.");
    EXPECT_EQ(content, "Checking.");
    EXPECT_EQ(name, "get_time");
    EXPECT_EQ(finish, "tool_calls");
}

}  // namespace
}  // namespace vkllm::server
