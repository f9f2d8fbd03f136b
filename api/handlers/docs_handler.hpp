#pragma once
// GET /openapi.json (every route of both listeners, api/docs/openapi.json)
// and GET /docs (a page that lists them), open to everyone: they describe
// the API, which is the same for every installation, and hold no data.
#include <pistache/router.h>

#include <string_view>

#include "api/reply.hpp"

namespace drover::api {

namespace docs {
extern const std::string_view openapi_json;
extern const std::string_view docs_html;
}  // namespace docs

class DocsHandler {
public:
    void openapi(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void page(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
};

}  // namespace drover::api
