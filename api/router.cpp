#include "api/router.hpp"


#include "api/http_error.hpp"
#include "api/request_id.hpp"

namespace drover::api {

using namespace Pistache;

namespace {


// The seam where authentication will go: it will read the API key, find its
// app and role, and refuse the request before any handler runs.
RequestContext authenticate(const Rest::Request&) {
    return RequestContext{next_request_id(), "default"};
}

// Runs a handler; what it throws before handing the response on (bad
// input, unknown id) is answered here through the one error table.
template <typename Handler>
Rest::Route::Handler route(Handler& handler,
                           void (Handler::*method)(RequestContext, const Rest::Request&, Http::ResponseWriter&)) {
    return [&handler, method](const Rest::Request& request, Http::ResponseWriter response) {
        auto ctx = authenticate(request);
        try {
            (handler.*method)(ctx, request, response);
        } catch (...) {
            send_reply(response, error_reply(std::current_exception(), ctx), ctx);
        }
        return Rest::Route::Result::Ok;
    };
}

}  // namespace

void add_routes(Rest::Router& router, Handlers h) {
    Rest::Routes::Get(router, "/healthz", route(h.health, &HealthHandler::healthz));
    Rest::Routes::Get(router, "/readyz", route(h.health, &HealthHandler::readyz));
    Rest::Routes::Post(router, "/v1/jobs", route(h.jobs, &JobsHandler::create));
    Rest::Routes::Get(router, "/v1/jobs/:id", route(h.jobs, &JobsHandler::get));
    Rest::Routes::Post(router, "/v1/jobs/:id/cancel", route(h.jobs, &JobsHandler::cancel));
    Rest::Routes::Get(router, "/v1/jobs/:id/logs", route(h.jobs, &JobsHandler::logs));

    router.addNotFoundHandler([](const Rest::Request& request, Http::ResponseWriter response) {
        RequestContext ctx{next_request_id(), ""};
        send_reply(response,
                   error_reply(Http::Code::Not_Found, "no_route",
                               "no route for " + std::string(Http::methodString(request.method())) + " " +
                                   request.resource(),
                               ctx),
                   ctx);
        return Rest::Route::Result::Ok;
    });
}

}  // namespace drover::api
