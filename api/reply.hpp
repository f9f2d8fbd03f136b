#pragma once
// What a handler answers: status, JSON body and extra headers. Handlers build
// a Reply; only the executor and the router's adapters touch Pistache's writer.
#include <pistache/http_defs.h>

#include <string>
#include <utility>
#include <vector>

namespace drover::api {

struct Reply {
    Pistache::Http::Code code = Pistache::Http::Code::Ok;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Per-request facts every handler gets. Auth comes later and fills `app` from
// the API key; today every request acts for the default app.
struct RequestContext {
    std::string request_id;
    std::string app = "default";
};

}  // namespace drover::api
