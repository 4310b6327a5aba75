#include "server/http_response.h"

#include <cstdio>

namespace vkllm::server {

const char* status_reason(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

namespace {

std::string head(int status, std::string_view content_type, bool keep_alive,
                 const HeaderList& extra) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + status_reason(status) + "\r\n";
    out += "Server: vkllm\r\n";
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto& [k, v] : extra) out += k + ": " + v + "\r\n";
    return out;
}

}  // namespace

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, const HeaderList& extra) {
    std::string out = head(status, content_type, keep_alive, extra);
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

std::string format_stream_head(int status, std::string_view content_type, bool keep_alive,
                               const HeaderList& extra) {
    std::string out = head(status, content_type, keep_alive, extra);
    out += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    return out;
}

std::string format_chunk(std::string_view data) {
    if (data.empty()) return {};  // a zero-size chunk would end the body
    char size[20];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    std::string out = size;
    out += data;
    out += "\r\n";
    return out;
}

std::string format_last_chunk() {
    return "0\r\n\r\n";
}

}  // namespace vkllm::server
