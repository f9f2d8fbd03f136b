#pragma once
// The one table from exceptions to HTTP statuses and JSON error bodies:
//   InputError(malformed) 400 · InputError(invalid) 422 · NotFound 404 ·
//   DbError with bad input 422 · DbError lost/retryable or timed out 503 ·
//   anything else 500 (logged with the request id, never shown to the client).
// Body: {"error": {"code", "message", "field"?, "request_id"}}.
#include <exception>
#include <string>

#include "api/reply.hpp"

namespace drover::api {

Reply error_reply(std::exception_ptr error, const RequestContext& ctx);
Reply error_reply(Pistache::Http::Code code, const std::string& error_code, const std::string& message,
                  const RequestContext& ctx, const std::string& field = {});

}  // namespace drover::api
