#pragma once
#include <string>

namespace drover::api {

// "<process prefix>-<counter>": unique across processes, cheap to make. Sent
// as X-Request-Id and written in every log line about the request.
std::string next_request_id();

}  // namespace drover::api
