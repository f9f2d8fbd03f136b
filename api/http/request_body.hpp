#pragma once
// The body of a request, for a handler: the one the request guard spooled
// (read itself, straight from the socket and hashed as it came, for large
// upload bodies: see kSpoolMinBytes in api/request_guard.cpp), else a copy
// of Pistache's. The guard hands Pistache a spooled request's header block
// alone, so request.body() is empty for it: upload handlers read bodies
// through request_body().
#include <pistache/http.h>

#include <memory>
#include <string>

namespace drover::api::http {

struct RequestBody {
    std::string bytes;
    std::string sha256;  // lower-case hex, computed as the body arrived; empty when it was not
};

// Takes the spooled body of the request `response` answers, if any (a second
// call gets request.body(), empty for a spooled request). On the reactor
// thread, in the handler, before the answer is written.
std::shared_ptr<const RequestBody> request_body(const Pistache::Http::Request& request,
                                                Pistache::Http::ResponseWriter& response);

}  // namespace drover::api::http
