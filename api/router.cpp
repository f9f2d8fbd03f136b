#include "api/router.hpp"

#include "api/http_error.hpp"
#include "api/request_id.hpp"

namespace drover::api {

using namespace Pistache;

namespace {

template <typename Handler>
using Method = void (Handler::*)(RequestContext, const Rest::Request&, Http::ResponseWriter&);

// Runs a handler; what it throws before handing the response on (bad
// input, unknown id) is answered here through the one error table.
template <typename Handler>
void call(Handler& handler, Method<Handler> method, RequestContext ctx, const Rest::Request& request,
          Http::ResponseWriter& response) {
    try {
        (handler.*method)(ctx, request, response);
    } catch (...) {
        send_reply(response, error_reply(std::current_exception(), ctx), ctx);
    }
}

// A route open to everyone (health).
template <typename Handler>
Rest::Route::Handler open(Handler& handler, Method<Handler> method) {
    return [&handler, method](const Rest::Request& request, Http::ResponseWriter response) {
        call(handler, method, RequestContext{next_request_id(), "", "", 0}, request, response);
        return Rest::Route::Result::Ok;
    };
}

// A route behind a key: the authenticator answers 401/403/429 itself, or
// lets the handler run with the key's app and role in its context (now, or
// after looking the key up off the reactor thread).
template <typename Handler>
Rest::Route::Handler keyed(Authenticator& auth, Need need, Handler& handler, Method<Handler> method) {
    return [&auth, need, &handler, method](const Rest::Request& request, Http::ResponseWriter response) {
        RequestContext ctx{next_request_id(), "", "", 0};
        auto later = [&] {
            return Authenticator::Next([&handler, method, request](RequestContext c, Http::ResponseWriter r) {
                call(handler, method, std::move(c), request, r);
            });
        };
        if (auto allowed = auth.authenticate(request, response, ctx, need, later)) {
            call(handler, method, std::move(*allowed), request, response);
        }
        return Rest::Route::Result::Ok;
    };
}

void add_not_found(Rest::Router& router) {
    router.addNotFoundHandler([](const Rest::Request& request, Http::ResponseWriter response) {
        RequestContext ctx{next_request_id(), "", "", 0};
        send_reply(response,
                   error_reply(Http::Code::Not_Found, "no_route",
                               "no route for " + std::string(Http::methodString(request.method())) + " " +
                                   request.resource(),
                               ctx),
                   ctx);
        return Rest::Route::Result::Ok;
    });
}

}  // namespace

void add_routes(Rest::Router& router, Handlers h, Authenticator& auth, const std::string& root) {
    const auto read = Need::app_role(Role::read);
    const auto submit = Need::app_role(Role::submit);
    const auto admin = Need::app_role(Role::admin);
    Rest::Routes::Get(router, root + "/healthz", open(h.health, &HealthHandler::healthz));
    Rest::Routes::Get(router, root + "/readyz", open(h.health, &HealthHandler::readyz));
    Rest::Routes::Post(router, root + "/v1/jobs", keyed(auth, submit, h.jobs, &JobsHandler::create));
    Rest::Routes::Get(router, root + "/v1/jobs", keyed(auth, read, h.jobs, &JobsHandler::list));
    Rest::Routes::Post(router, root + "/v1/jobs/batch", keyed(auth, submit, h.jobs, &JobsHandler::create_batch));
    Rest::Routes::Get(router, root + "/v1/jobs/:id", keyed(auth, read, h.jobs, &JobsHandler::get));
    Rest::Routes::Post(router, root + "/v1/jobs/:id/cancel", keyed(auth, submit, h.jobs, &JobsHandler::cancel));
    Rest::Routes::Get(router, root + "/v1/jobs/:id/logs", keyed(auth, read, h.jobs, &JobsHandler::logs));
    Rest::Routes::Post(router, root + "/v1/jobs/:id/retry", keyed(auth, submit, h.jobs, &JobsHandler::retry));
    Rest::Routes::Delete(router, root + "/v1/jobs/:id", keyed(auth, admin, h.jobs, &JobsHandler::remove));
    Rest::Routes::Get(router, root + "/status", keyed(auth, read, h.status, &StatusHandler::status));
    Rest::Routes::Get(router, root + "/v1/queues", keyed(auth, read, h.jobs, &JobsHandler::queues));
    Rest::Routes::Get(router, root + "/v1/keys", keyed(auth, admin, h.keys, &KeysHandler::list));
    Rest::Routes::Post(router, root + "/v1/keys", keyed(auth, admin, h.keys, &KeysHandler::create));
    Rest::Routes::Post(router, root + "/v1/keys/:id/revoke", keyed(auth, admin, h.keys, &KeysHandler::revoke));
    Rest::Routes::Post(router, root + "/v1/uploads", keyed(auth, submit, h.uploads, &UploadsHandler::create));
    Rest::Routes::Get(router, root + "/v1/uploads/:id", keyed(auth, read, h.uploads, &UploadsHandler::get));
    Rest::Routes::Post(router, root + "/v1/uploads/sessions",
                       keyed(auth, submit, h.uploads, &UploadsHandler::create_session));
    Rest::Routes::Get(router, root + "/v1/uploads/sessions/:id",
                      keyed(auth, read, h.uploads, &UploadsHandler::get_session));
    Rest::Routes::Put(router, root + "/v1/uploads/sessions/:id/parts/:n",
                      keyed(auth, submit, h.uploads, &UploadsHandler::put_part));
    Rest::Routes::Post(router, root + "/v1/uploads/sessions/:id/complete",
                       keyed(auth, submit, h.uploads, &UploadsHandler::complete));
    Rest::Routes::Get(router, root + "/v1/jobs/:id/artifacts", keyed(auth, read, h.artifacts, &ArtifactsHandler::list));
    Rest::Routes::Get(router, root + "/v1/jobs/:id/artifacts/:name",
                      keyed(auth, read, h.artifacts, &ArtifactsHandler::download));
    Rest::Routes::Get(router, root + "/v1/uploads/:id/content", keyed(auth, read, h.uploads, &UploadsHandler::content));
    Rest::Routes::Get(router, root + "/ga4gh/drs/v1/objects/:id", keyed(auth, read, h.drs, &DrsHandler::object));
    Rest::Routes::Get(router, root + "/ga4gh/drs/v1/objects/:id/access/:access_id",
                      keyed(auth, read, h.drs, &DrsHandler::access));
    add_not_found(router);
}

void add_admin_routes(Rest::Router& router, AdminHandler& a, Authenticator& auth, StorageAdminHandler* storage) {
    const auto op = Need::operator_key();
    Rest::Routes::Get(router, "/maintenance/apps", keyed(auth, op, a, &AdminHandler::list_apps));
    Rest::Routes::Post(router, "/maintenance/apps", keyed(auth, op, a, &AdminHandler::create_app));
    Rest::Routes::Put(router, "/maintenance/apps/:app/limits", keyed(auth, op, a, &AdminHandler::set_limits));
    Rest::Routes::Get(router, "/maintenance/apps/:app/keys", keyed(auth, op, a, &AdminHandler::list_keys));
    Rest::Routes::Post(router, "/maintenance/apps/:app/keys", keyed(auth, op, a, &AdminHandler::create_key));
    Rest::Routes::Post(router, "/maintenance/keys/:id/revoke", keyed(auth, op, a, &AdminHandler::revoke_key));
    Rest::Routes::Get(router, "/maintenance/jobs/:id", keyed(auth, op, a, &AdminHandler::get_job));
    if (storage) {
        auto& s = *storage;
        using S = StorageAdminHandler;
        Rest::Routes::Get(router, "/maintenance/uploads/:id", keyed(auth, op, s, &S::get_upload));
        Rest::Routes::Post(router, "/maintenance/uploads/:id/whitelist", keyed(auth, op, s, &S::whitelist));
        Rest::Routes::Delete(router, "/maintenance/uploads/:id/whitelist", keyed(auth, op, s, &S::unwhitelist));
        Rest::Routes::Post(router, "/maintenance/uploads/:id/protect", keyed(auth, op, s, &S::protect));
        Rest::Routes::Delete(router, "/maintenance/uploads/:id/protect", keyed(auth, op, s, &S::unprotect));
        Rest::Routes::Get(router, "/maintenance/storage", keyed(auth, op, s, &S::storage));
        Rest::Routes::Post(router, "/maintenance/sweeps/:name/run", keyed(auth, op, s, &S::run_sweep));
    }
    add_not_found(router);
}

}  // namespace drover::api
