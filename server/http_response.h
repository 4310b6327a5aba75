#pragma once
// HTTP/1.1 response bytes: whole responses with Content-Length, and the head plus chunks of a
// streamed (Transfer-Encoding: chunked) response, which keeps the connection reusable after an
// SSE stream ends.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkllm::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

const char* status_reason(int status);

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, const HeaderList& extra = {});
// Head of a chunked response; follow with format_chunk() pieces and format_last_chunk().
std::string format_stream_head(int status, std::string_view content_type, bool keep_alive,
                               const HeaderList& extra = {});
std::string format_chunk(std::string_view data);
std::string format_last_chunk();

}  // namespace vkllm::server
