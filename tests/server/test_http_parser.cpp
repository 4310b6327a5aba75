// HTTP/1.1 request framing: every split of the input, pipelining, chunked bodies, and each limit.
#include <gtest/gtest.h>

#include <string>

#include "server/http_parser.h"

namespace vkllm::server {
namespace {

HttpLimits small_limits() {
    HttpLimits l;
    l.max_header_bytes = 512;
    l.max_headers = 8;
    l.max_body_bytes = 64;
    return l;
}

// Feeds all of `data` and returns the parser's state; `rest` gets the unconsumed bytes.
HttpParser::Status feed_all(HttpParser& p, std::string_view data, std::string* rest = nullptr) {
    const size_t used = p.feed(data);
    if (rest != nullptr) *rest = std::string(data.substr(used));
    return p.status();
}

TEST(HttpParser, ParsesContentLengthRequestAtEverySplit) {
    const std::string req =
        "POST /v1/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        "X-Thing:  spaced  \r\n\r\nhello";
    for (size_t split = 0; split <= req.size(); ++split) {
        HttpParser p(small_limits());
        std::string_view a(req.data(), split);
        std::string_view b(req.data() + split, req.size() - split);
        EXPECT_EQ(p.feed(a), a.size());
        if (split < req.size()) {
            EXPECT_EQ(p.status(), HttpParser::Status::NeedMore) << split;
        }
        EXPECT_EQ(p.feed(b), b.size());
        ASSERT_EQ(p.status(), HttpParser::Status::Complete) << split;
        HttpRequest r = p.take();
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.path(), "/v1/completions");
        EXPECT_EQ(r.body, "hello");
        ASSERT_NE(r.header("x-thing"), nullptr);
        EXPECT_EQ(*r.header("x-thing"), "spaced");
        EXPECT_TRUE(r.keep_alive());
    }
}

TEST(HttpParser, StopsAtTheEndOfEachPipelinedRequest) {
    const std::string two =
        "GET /health HTTP/1.1\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /y "
        "HTTP/1.0\r\n\r\n";
    HttpParser p(small_limits());
    std::string rest;
    ASSERT_EQ(feed_all(p, two, &rest), HttpParser::Status::Complete);
    EXPECT_EQ(p.take().path(), "/health");
    ASSERT_EQ(feed_all(p, std::string(rest), &rest), HttpParser::Status::Complete);
    EXPECT_EQ(p.take().body, "hi");
    ASSERT_EQ(feed_all(p, std::string(rest), &rest), HttpParser::Status::Complete);
    HttpRequest last = p.take();
    EXPECT_EQ(last.path(), "/y");
    EXPECT_FALSE(last.keep_alive());  // HTTP/1.0 without keep-alive
    EXPECT_TRUE(rest.empty());
}

TEST(HttpParser, DecodesChunkedBodiesWithExtensionsAndTrailers) {
    const std::string req =
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
    for (size_t split = 0; split <= req.size(); ++split) {
        HttpParser p(small_limits());
        p.feed(std::string_view(req.data(), split));
        p.feed(std::string_view(req.data() + split, req.size() - split));
        ASSERT_EQ(p.status(), HttpParser::Status::Complete) << split;
        EXPECT_EQ(p.take().body, "hello world");
    }
}

struct BadCase {
    const char* name;
    std::string request;
    int status;
};

TEST(HttpParser, RejectsMalformedInputWithTheRightStatus) {
    const std::string big_header = "GET / HTTP/1.1\r\nX: " + std::string(600, 'a') + "\r\n\r\n";
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 9; ++i) many += "H" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    const BadCase cases[] = {
        {"garbage request line", "HELLO\r\n\r\n", 400},
        {"missing version", "GET /\r\n\r\n", 400},
        {"bad target", "GET x HTTP/1.1\r\n\r\n", 400},
        {"http2", "GET / HTTP/2.0\r\n\r\n", 505},
        {"no colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"folded header", "GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n", 400},
        {"post without length", "POST /x HTTP/1.1\r\n\r\n", 411},
        {"bad length", "POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        {"negative length", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        {"conflicting lengths",
         "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"te and cl", "POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"gzip te", "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"body too large", "POST /x HTTP/1.1\r\nContent-Length: 65\r\n\r\n", 413},
        {"chunked too large", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", 413},
        {"bad chunk size", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"chunk without crlf", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
         400},
        {"headers too large", big_header, 431},
        {"too many headers", many, 431},
    };
    for (const BadCase& c : cases) {
        HttpParser p(small_limits());
        ASSERT_EQ(feed_all(p, c.request), HttpParser::Status::Error) << c.name;
        EXPECT_EQ(p.error().status, c.status) << c.name << ": " << p.error().message;
        EXPECT_FALSE(p.error().message.empty());
    }
}

TEST(HttpParser, ReportsExpectContinueOnceHeadersAreIn) {
    HttpParser p(small_limits());
    p.feed("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    EXPECT_TRUE(p.awaiting_body());
    EXPECT_TRUE(p.partial().expects_continue());
    p.feed("abc");
    EXPECT_EQ(p.status(), HttpParser::Status::Complete);
}

TEST(HttpParser, TracksWhetherARequestHasStarted) {
    HttpParser p(small_limits());
    EXPECT_FALSE(p.started());
    p.feed("\r\n");  // stray CRLF between requests is not a request
    EXPECT_FALSE(p.started());
    p.feed("GE");
    EXPECT_TRUE(p.started());
}

TEST(HttpParser, ConnectionHeaderControlsKeepAlive) {
    HttpParser p(small_limits());
    p.feed("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n");
    EXPECT_FALSE(p.take().keep_alive());
    p.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(p.take().keep_alive());
}

}  // namespace
}  // namespace vkllm::server
