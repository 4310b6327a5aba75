#pragma once
// The reply side of one HTTP request, as the routes see it: a whole response, or a chunked stream
// (SSE). Implemented by the connection; used on the network thread only. After the client has
// gone every call is a no-op, so a route never has to check before writing.

#include <functional>
#include <string>
#include <string_view>

#include "server/http_response.h"

namespace vkllm::server {

class Responder {
  public:
    virtual ~Responder() = default;
    virtual void respond(int status, std::string_view content_type, std::string_view body,
                         const HeaderList& extra = {}) = 0;
    virtual void start_stream(int status, std::string_view content_type) = 0;
    virtual void stream(std::string_view data) = 0;
    virtual void end_stream() = 0;
    // Ends the exchange without a (complete) response and closes the connection.
    virtual void abort() = 0;
    // `fn` runs once if the client disconnects before the response is complete.
    virtual void on_disconnect(std::function<void()> fn) = 0;
};

}  // namespace vkllm::server
