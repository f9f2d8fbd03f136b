#include "api/router.hpp"

#include <functional>
#include <mutex>
#include <vector>

#include "api/http/media_type.hpp"
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

// What the route tables register: a route template and its handler.
using Adapter = std::function<Rest::Route::Handler(std::string route)>;

RequestContext new_context(const std::string& route) {
    RequestContext ctx{next_request_id(), "", "", 0, route, std::chrono::steady_clock::now()};
    return ctx;
}

// A route open to everyone (health).
template <typename Handler>
Adapter open(Handler& handler, Method<Handler> method) {
    return [&handler, method](std::string route) -> Rest::Route::Handler {
        return [&handler, method, route](const Rest::Request& request, Http::ResponseWriter response) {
            call(handler, method, new_context(route), request, response);
            return Rest::Route::Result::Ok;
        };
    };
}

// A route behind a key: the authenticator answers 401/403/429 itself, or
// lets the handler run with the key's app and role in its context (now, or
// after looking the key up off the reactor thread).
template <typename Handler>
Adapter keyed(Authenticator& auth, Need need, Handler& handler, Method<Handler> method) {
    return [&auth, need, &handler, method](std::string route) -> Rest::Route::Handler {
        return [&auth, need, &handler, method, route](const Rest::Request& request, Http::ResponseWriter response) {
            auto later = [&] {
                return Authenticator::Next([&handler, method, request](RequestContext c, Http::ResponseWriter r) {
                    call(handler, method, std::move(c), request, r);
                });
            };
            if (auto allowed = auth.authenticate(request, response, new_context(route), need, later)) {
                call(handler, method, std::move(*allowed), request, response);
            }
            return Rest::Route::Result::Ok;
        };
    };
}

// A route with a body: a Content-Type that says the body is something else
// than the route takes is answered 415 before the key is even looked at
// (api/http/media_type.hpp says which types each takes).
Adapter body(http::BodyType type, Adapter inner) {
    return [type, inner = std::move(inner)](std::string route) -> Rest::Route::Handler {
        auto handler = inner(route);
        return [type, handler, route](const Rest::Request& request, Http::ResponseWriter response) {
            std::string content_type;
            if (auto header = request.headers().tryGet<Http::Header::ContentType>()) {
                content_type = header->mime().toString();
            }
            if (auto refusal = http::refuse_media_type(type, content_type)) {
                auto ctx = new_context(route);
                send_reply(response, error_reply(Http::Code::Unsupported_Media_Type, "unsupported_media_type", *refusal, ctx),
                           ctx);
                return Rest::Route::Result::Ok;
            }
            return handler(request, std::move(response));
        };
    };
}

// One listener's table: every route under `root`, named "METHOD /template" in metrics.
struct Table {
    Rest::Router& router;
    std::string root;

    void add(Http::Method method, const std::string& path, const Adapter& adapter) {
        std::string name = std::string(Http::methodString(method)) + " " + path;
        router.addRoute(method, root + path, adapter(name));
        std::lock_guard lock(registry_mutex());
        registry().push_back(name);
    }
    static std::mutex& registry_mutex() {
        static std::mutex m;
        return m;
    }
    static std::vector<std::string>& registry() {
        static std::vector<std::string> names;
        return names;
    }
};

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
    Table t{router, root};
    t.add(Http::Method::Get, "/healthz", open(h.health, &HealthHandler::healthz));
    t.add(Http::Method::Get, "/readyz", open(h.health, &HealthHandler::readyz));
    t.add(Http::Method::Get, "/openapi.json", open(h.docs, &DocsHandler::openapi));
    t.add(Http::Method::Get, "/docs", open(h.docs, &DocsHandler::page));
    t.add(Http::Method::Post, "/v1/jobs", body(http::BodyType::json, keyed(auth, submit, h.jobs, &JobsHandler::create)));
    t.add(Http::Method::Get, "/v1/jobs", keyed(auth, read, h.jobs, &JobsHandler::list));
    t.add(Http::Method::Post, "/v1/jobs/batch", body(http::BodyType::json, keyed(auth, submit, h.jobs, &JobsHandler::create_batch)));
    t.add(Http::Method::Get, "/v1/jobs/:id", keyed(auth, read, h.jobs, &JobsHandler::get));
    t.add(Http::Method::Post, "/v1/jobs/:id/cancel", keyed(auth, submit, h.jobs, &JobsHandler::cancel));
    t.add(Http::Method::Get, "/v1/jobs/:id/logs", keyed(auth, read, h.jobs, &JobsHandler::logs));
    t.add(Http::Method::Post, "/v1/jobs/:id/retry", keyed(auth, submit, h.jobs, &JobsHandler::retry));
    t.add(Http::Method::Delete, "/v1/jobs/:id", keyed(auth, admin, h.jobs, &JobsHandler::remove));
    t.add(Http::Method::Get, "/status", keyed(auth, read, h.status, &StatusHandler::status));
    t.add(Http::Method::Get, "/v1/queues", keyed(auth, read, h.jobs, &JobsHandler::queues));
    t.add(Http::Method::Get, "/v1/keys", keyed(auth, admin, h.keys, &KeysHandler::list));
    t.add(Http::Method::Post, "/v1/keys", body(http::BodyType::json, keyed(auth, admin, h.keys, &KeysHandler::create)));
    t.add(Http::Method::Post, "/v1/keys/:id/revoke", keyed(auth, admin, h.keys, &KeysHandler::revoke));
    t.add(Http::Method::Post, "/v1/uploads", body(http::BodyType::binary, keyed(auth, submit, h.uploads, &UploadsHandler::create)));
    t.add(Http::Method::Get, "/v1/uploads/:id", keyed(auth, read, h.uploads, &UploadsHandler::get));
    t.add(Http::Method::Post, "/v1/uploads/sessions", keyed(auth, submit, h.uploads, &UploadsHandler::create_session));
    t.add(Http::Method::Get, "/v1/uploads/sessions/:id", keyed(auth, read, h.uploads, &UploadsHandler::get_session));
    t.add(Http::Method::Put, "/v1/uploads/sessions/:id/parts/:n", body(http::BodyType::binary, keyed(auth, submit, h.uploads, &UploadsHandler::put_part)));
    t.add(Http::Method::Post, "/v1/uploads/sessions/:id/complete", body(http::BodyType::json, keyed(auth, submit, h.uploads, &UploadsHandler::complete)));
    t.add(Http::Method::Get, "/v1/jobs/:id/artifacts", keyed(auth, read, h.artifacts, &ArtifactsHandler::list));
    t.add(Http::Method::Get, "/v1/jobs/:id/artifacts.zip", keyed(auth, read, h.artifacts, &ArtifactsHandler::zip));
    t.add(Http::Method::Get, "/v1/jobs/:id/artifacts/:name", keyed(auth, read, h.artifacts, &ArtifactsHandler::download));
    // HEAD: the same answer without its body (api/http/reply_writer.cpp drops it).
    t.add(Http::Method::Head, "/v1/jobs/:id/artifacts/:name", keyed(auth, read, h.artifacts, &ArtifactsHandler::download));
    t.add(Http::Method::Get, "/v1/uploads/:id/content", keyed(auth, read, h.uploads, &UploadsHandler::content));
    t.add(Http::Method::Head, "/v1/uploads/:id/content", keyed(auth, read, h.uploads, &UploadsHandler::content));
    t.add(Http::Method::Get, "/ga4gh/drs/v1/objects/:id", keyed(auth, read, h.drs, &DrsHandler::object));
    t.add(Http::Method::Get, "/ga4gh/drs/v1/objects/:id/access/:access_id", keyed(auth, read, h.drs, &DrsHandler::access));
    add_not_found(router);
}

void add_admin_routes(Rest::Router& router, AdminHandler& a, Authenticator& auth, StorageAdminHandler* storage) {
    const auto op = Need::operator_key();
    Table t{router, ""};
    t.add(Http::Method::Get, "/maintenance/apps", keyed(auth, op, a, &AdminHandler::list_apps));
    t.add(Http::Method::Post, "/maintenance/apps", body(http::BodyType::json, keyed(auth, op, a, &AdminHandler::create_app)));
    t.add(Http::Method::Put, "/maintenance/apps/:app/limits", body(http::BodyType::json, keyed(auth, op, a, &AdminHandler::set_limits)));
    t.add(Http::Method::Get, "/maintenance/apps/:app/keys", keyed(auth, op, a, &AdminHandler::list_keys));
    t.add(Http::Method::Post, "/maintenance/apps/:app/keys", body(http::BodyType::json, keyed(auth, op, a, &AdminHandler::create_key)));
    t.add(Http::Method::Post, "/maintenance/keys/:id/revoke", keyed(auth, op, a, &AdminHandler::revoke_key));
    t.add(Http::Method::Get, "/maintenance/jobs/:id", keyed(auth, op, a, &AdminHandler::get_job));
    t.add(Http::Method::Get, "/metrics", keyed(auth, op, a, &AdminHandler::metrics));
    if (storage) {
        auto& s = *storage;
        using S = StorageAdminHandler;
        t.add(Http::Method::Get, "/maintenance/uploads/:id", keyed(auth, op, s, &S::get_upload));
        t.add(Http::Method::Post, "/maintenance/uploads/:id/whitelist", keyed(auth, op, s, &S::whitelist));
        t.add(Http::Method::Delete, "/maintenance/uploads/:id/whitelist", keyed(auth, op, s, &S::unwhitelist));
        t.add(Http::Method::Post, "/maintenance/uploads/:id/protect", keyed(auth, op, s, &S::protect));
        t.add(Http::Method::Delete, "/maintenance/uploads/:id/protect", keyed(auth, op, s, &S::unprotect));
        t.add(Http::Method::Get, "/maintenance/storage", keyed(auth, op, s, &S::storage));
        t.add(Http::Method::Post, "/maintenance/sweeps/:name/run", keyed(auth, op, s, &S::run_sweep));
    }
    add_not_found(router);
}

const std::vector<std::string>& registered_routes() {
    std::lock_guard lock(Table::registry_mutex());
    return Table::registry();
}

}  // namespace drover::api
