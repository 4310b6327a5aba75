#pragma once
// A blocking loopback HTTP/1.1 client for the server tests: sends raw bytes (so malformed input
// can be sent as is) and reads one response, Content-Length or chunked.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace vkllm::server::testing {

struct HttpReply {
    int status = 0;                              // 0: the connection closed before a response
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;                            // de-chunked
};

class RawClient {
  public:
    explicit RawClient(uint16_t port, int timeout_ms = 20000) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
    }
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void send(const std::string& data) {
        size_t off = 0;
        while (off < data.size()) {
            const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;  // the server closed; the test checks the reply
            off += static_cast<size_t>(n);
        }
    }
    // Reads one response; status 0 when the connection ended first.
    HttpReply read_reply() {
        HttpReply r;
        std::string head;
        if (!read_until("\r\n\r\n", head)) return r;
        r.status = std::stoi(head.substr(9, 3));
        size_t pos = head.find("\r\n") + 2;
        while (pos < head.size()) {
            const size_t end = head.find("\r\n", pos);
            const std::string line = head.substr(pos, end - pos);
            const size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (char& c : name)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
            }
            pos = end + 2;
        }
        if (r.headers.count("transfer-encoding")) {
            for (;;) {
                std::string size_line;
                if (!read_until("\r\n", size_line)) return r;
                const size_t n = std::stoul(size_line, nullptr, 16);
                std::string data;
                if (!read_exact(n + 2, data)) return r;
                if (n == 0) break;
                r.body += data.substr(0, n);
            }
        } else if (r.headers.count("content-length")) {
            read_exact(std::stoul(r.headers["content-length"]), r.body);
        }
        return r;
    }
    // True when the server closed the connection (EOF) within the receive timeout.
    bool closed_by_server() {
        char c;
        if (!buffer_.empty()) return false;
        return ::recv(fd_, &c, 1, 0) == 0;
    }

  private:
    bool fill() {
        char buf[8192];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        buffer_.append(buf, static_cast<size_t>(n));
        return true;
    }
    bool read_until(const std::string& delim, std::string& out) {
        for (;;) {
            const size_t at = buffer_.find(delim);
            if (at != std::string::npos) {
                out = buffer_.substr(0, at + delim.size());
                buffer_.erase(0, at + delim.size());
                return true;
            }
            if (!fill()) return false;
        }
    }
    bool read_exact(size_t n, std::string& out) {
        while (buffer_.size() < n) {
            if (!fill()) return false;
        }
        out = buffer_.substr(0, n);
        buffer_.erase(0, n);
        return true;
    }

    int fd_ = -1;
    std::string buffer_;
};

inline std::string post(const std::string& path, const std::string& body,
                        const std::string& extra_headers = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::string get(const std::string& path, const std::string& extra_headers = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
}

}  // namespace vkllm::server::testing
