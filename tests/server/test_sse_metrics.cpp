// Wire formats: SSE events, chunked framing, whole responses, Prometheus text, error objects.
#include <gtest/gtest.h>

#include <string>

#include "server/http_response.h"
#include "server/metrics.h"
#include "server/request_error.h"
#include "server/sse.h"

namespace vkllm::server {
namespace {

TEST(Sse, EventsAreOneDataLineAndABlankLine) {
    EXPECT_EQ(sse_event({{"a", "x\ny"}}), "data: {\"a\":\"x\\ny\"}\n\n");
    EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
}

TEST(HttpResponse, FramesWholeAndChunkedResponses) {
    const std::string r = format_response(404, "application/json", "{}", true);
    EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
    EXPECT_NE(r.find("Content-Length: 2\r\n"), std::string::npos);
    EXPECT_NE(r.find("Connection: keep-alive\r\n"), std::string::npos);
    EXPECT_EQ(r.substr(r.size() - 6), "\r\n\r\n{}");
    EXPECT_NE(
        format_stream_head(200, "text/event-stream", false).find("Transfer-Encoding: chunked"),
        std::string::npos);
    EXPECT_EQ(format_chunk("hello, world!!!!"), "10\r\nhello, world!!!!\r\n");
    EXPECT_EQ(format_chunk(""), "");  // never the terminating zero chunk by accident
    EXPECT_EQ(format_last_chunk(), "0\r\n\r\n");
}

TEST(RequestErrorJson, HasOpenAiShape) {
    const auto j = error_json(RequestError(400, "bad", "messages[0].role", "x"));
    EXPECT_EQ(j["error"]["message"], "bad");
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_EQ(j["error"]["param"], "messages[0].role");
    EXPECT_EQ(j["error"]["code"], "x");
    EXPECT_TRUE(error_json(500, "boom")["error"]["param"].is_null());
    EXPECT_EQ(error_json(401, "k")["error"]["type"], "authentication_error");
}

TEST(Metrics, PrometheusTextHasCountersGaugesAndCumulativeHistograms) {
    Metrics m;
    m.record_request("/v1/completions", 200);
    m.record_request("/v1/completions", 200);
    m.record_request("/v1/completions", 400);
    m.record_step(100, 0, 0.5);
    m.record_step(0, 30, 1.5);
    m.record_step(0, 0, 9.0);  // an empty step records nothing
    m.record_ttft(0.03);
    m.record_ttft(7.0);
    m.record_inter_token(0.002);
    m.set_gauges({3, 2, 4, 50, 400, std::nullopt});
    EXPECT_EQ(m.prometheus_text().find("vkllm_expert"), std::string::npos);  // resident experts
    m.set_gauges(
        {3, 2, 4, 50, 400, ExpertCacheCounters{16, 200, 150, 50, 5000, 40, 30, 7, 20, 15}});
    const std::string t = m.prometheus_text();
    EXPECT_NE(t.find("vkllm_expert_cache_slots_per_layer 16\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_expert_cache_hits_total 150\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_expert_upload_bytes_total 5000\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_expert_cache_hit_ratio 0.75\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_expert_cpu_pairs_total 7\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_expert_prefetch_used_total 15\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_requests_total{route=\"/v1/completions\",status=\"200\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("vkllm_requests_total{route=\"/v1/completions\",status=\"400\"} 1\n"),
              std::string::npos);
    EXPECT_NE(t.find("vkllm_prefill_tokens_per_second 200\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_decode_tokens_per_second 20\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_steps_total 2\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_step_seconds_total 2\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_queue_depth 3\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_kv_usage_ratio 0.125\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_time_to_first_token_seconds_bucket{le=\"0.05\"} 1\n"),
              std::string::npos);
    EXPECT_NE(t.find("vkllm_time_to_first_token_seconds_bucket{le=\"10\"} 2\n"), std::string::npos);
    EXPECT_NE(t.find("vkllm_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("vkllm_time_to_first_token_seconds_count 2\n"), std::string::npos);
    EXPECT_NE(t.find("# TYPE vkllm_inter_token_seconds histogram\n"), std::string::npos);
    // Every non-comment line is "name{labels} value".
    size_t pos = 0;
    while (pos < t.size()) {
        const size_t nl = t.find('\n', pos);
        ASSERT_NE(nl, std::string::npos);
        const std::string line = t.substr(pos, nl - pos);
        if (line[0] != '#') {
            EXPECT_NE(line.find(' '), std::string::npos) << line;
        }
        pos = nl + 1;
    }
}

}  // namespace
}  // namespace vkllm::server
