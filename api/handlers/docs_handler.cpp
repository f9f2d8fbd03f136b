#include "api/handlers/docs_handler.hpp"

#include "api/db_executor.hpp"
#include "api/metrics.hpp"

namespace drover::api {

using Pistache::Http::Code;

void DocsHandler::openapi(RequestContext ctx, const Pistache::Rest::Request&,
                          Pistache::Http::ResponseWriter& response) {
    send_reply(response, Reply{Code::Ok, std::string(docs::openapi_json), {}}, ctx);
}

void DocsHandler::page(RequestContext ctx, const Pistache::Rest::Request&, Pistache::Http::ResponseWriter& response) {
    send_reply(response, Reply{Code::Ok, std::string(docs::docs_html), {}, "text/html; charset=utf-8"}, ctx);
}

}  // namespace drover::api
