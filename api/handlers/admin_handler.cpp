#include "api/handlers/admin_handler.hpp"

#include "api/http/path_params.hpp"

#include <charconv>

#include "api/http_error.hpp"
#include "api/metrics.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/store/app_store.hpp"
#include "core/store/key_store.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

InputError invalid(std::string code, std::string message, std::string field) {
    return InputError(InputError::Kind::invalid, std::move(code), std::move(message), std::move(field));
}

// The body as a JSON object whose members are all in `known`.
rapidjson::Document object_body(const std::string& body, std::initializer_list<std::string_view> known) {
    auto doc = json::parse(body);
    if (!doc.IsObject()) throw invalid("wrong_type", "the body must be a JSON object", "");
    for (auto& m : doc.GetObject()) {
        auto name = json::view(m.name);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            throw invalid("unknown_field", "unknown field \"" + std::string(name) + "\"", std::string(name));
        }
    }
    return doc;
}

// A limit: a non-negative integer (positive when `positive`) or null; absent = null.
std::optional<std::int64_t> limit_field(const rapidjson::Document& doc, const char* name, bool positive) {
    if (!doc.HasMember(name) || doc[name].IsNull()) return std::nullopt;
    const auto& v = doc[name];
    if (!v.IsInt64()) throw invalid("wrong_type", std::string("\"") + name + "\" must be an integer or null", name);
    auto n = v.GetInt64();
    if (n < (positive ? 1 : 0) || n > 1000000000) {
        throw invalid("out_of_range",
                      std::string("\"") + name + "\" must be from " + (positive ? "1" : "0") + " to 1000000000", name);
    }
    return n;
}

std::string string_member(const rapidjson::Document& doc, const char* name, bool required) {
    if (!doc.HasMember(name)) {
        if (required) throw invalid("missing_field", std::string("\"") + name + "\" is required", name);
        return {};
    }
    if (!doc[name].IsString()) throw invalid("wrong_type", std::string("\"") + name + "\" must be a string", name);
    auto s = json::view(doc[name]);
    if (s.find('\0') != std::string_view::npos || s.size() > 200) {
        throw invalid("invalid_value", std::string("\"") + name + "\" must be at most 200 characters, no U+0000",
                      name);
    }
    return std::string(s);
}

bool is_app_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != ':' && c != '-') return false;
    }
    return true;
}

std::string app_param(const Pistache::Rest::Request& request) {
    auto app = request.param(":app").as<std::string>();
    if (!is_app_name(app)) throw NotFound("no such app");
    return app;
}

Role role_member(const rapidjson::Document& doc) {
    auto name = string_member(doc, "role", true);
    auto role = parse_role(name);
    if (!role || *role == Role::operator_) {  // operator keys: drover keys create-operator
        throw invalid("invalid_value", "\"role\" must be \"read\", \"submit\" or \"admin\"", "role");
    }
    return *role;
}

std::string keys_json(const std::vector<ApiKey>& keys) {
    std::string out = "{\"keys\":[";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ',';
        out += key_to_json(keys[i]);
    }
    return out + "]}";
}

}  // namespace

void AdminHandler::list_apps(RequestContext ctx, const Pistache::Rest::Request&,
                             Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [](db::Connection& conn) {
        std::string out = "{\"apps\":[";
        auto apps = AppStore(conn).list();
        for (std::size_t i = 0; i < apps.size(); ++i) out += (i ? "," : "") + app_to_json(apps[i]);
        return Reply{Code::Ok, out + "]}", {}};
    });
}

void AdminHandler::create_app(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto doc = object_body(request.body(), {"name", "max_unfinished_jobs", "rate_limit_per_s"});
    auto name = string_member(doc, "name", true);
    if (!is_app_name(name)) {
        throw invalid("invalid_value", "\"name\" must be 1 to 64 of A-Z a-z 0-9 _ . : -", "name");
    }
    AppLimits limits{limit_field(doc, "max_unfinished_jobs", false), limit_field(doc, "rate_limit_per_s", true)};
    db_.run(std::move(response), ctx, [name, limits, ctx](db::Connection& conn) {
        auto app = AppStore(conn).create(name, limits);
        if (!app) return error_reply(Code::Conflict, "already_exists", "an app named '" + name + "' exists", ctx);
        Reply r{Code::Created, app_to_json(*app), {}};
        r.headers.emplace_back("Location", "/maintenance/apps/" + name);
        return r;
    });
}

void AdminHandler::set_limits(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto name = app_param(request);
    auto doc = object_body(request.body(), {"max_unfinished_jobs", "rate_limit_per_s"});
    AppLimits limits{limit_field(doc, "max_unfinished_jobs", false), limit_field(doc, "rate_limit_per_s", true)};
    db_.run(std::move(response), ctx, [name, limits](db::Connection& conn) {
        auto app = AppStore(conn).set_limits(name, limits);
        if (!app) throw NotFound("no such app");
        return Reply{Code::Ok, app_to_json(*app), {}};
    });
}

void AdminHandler::list_keys(RequestContext ctx, const Pistache::Rest::Request& request,
                             Pistache::Http::ResponseWriter& response) {
    auto name = app_param(request);
    db_.run(std::move(response), ctx, [name](db::Connection& conn) {
        if (!AppStore(conn).get(name)) throw NotFound("no such app");
        return Reply{Code::Ok, keys_json(KeyStore(conn).list(name)), {}};
    });
}

void AdminHandler::create_key(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto name = app_param(request);
    auto doc = object_body(request.body(), {"role", "name"});
    auto role = role_member(doc);
    auto label = string_member(doc, "name", false);
    db_.run(std::move(response), ctx, [name, role, label](db::Connection& conn) {
        if (!AppStore(conn).get(name)) throw NotFound("no such app");
        auto created = KeyStore(conn).create(name, role, label);
        return Reply{Code::Created, key_to_json(created.key, created.plaintext), {}};
    });
}

void AdminHandler::revoke_key(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "key");
    db_.run(std::move(response), ctx, [id](db::Connection& conn) {
        auto key = KeyStore(conn).revoke(id, std::nullopt);
        if (!key) throw NotFound("no such key");
        return Reply{Code::Ok, key_to_json(*key), {}};
    });
}

void AdminHandler::get_job(RequestContext ctx, const Pistache::Rest::Request& request,
                           Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "job");
    db_.run(std::move(response), ctx, [id](db::Connection& conn) {
        auto r = conn.query("jobs/get_any", db::Params().add(id));
        if (r.empty()) throw NotFound("no such job");
        return Reply{Code::Ok, std::string(r.text(0, 0)), {}};
    });
}

void AdminHandler::metrics(RequestContext ctx, const Pistache::Rest::Request&,
                           Pistache::Http::ResponseWriter& response) {
    // Prometheus (3.x) needs its own content type, not JSON. The job gauges
    // are read from the database, off the reactor thread.
    db_.run(std::move(response), ctx, [](db::Connection& conn) {
        auto jobs = job_metrics(conn);
        return Reply{Code::Ok, Metrics::global().render() + jobs, {}, "text/plain; version=0.0.4"};
    });
}

void KeysHandler::list(RequestContext ctx, const Pistache::Rest::Request&, Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [app = ctx.app](db::Connection& conn) {
        return Reply{Code::Ok, keys_json(KeyStore(conn).list(app)), {}};
    });
}

void KeysHandler::create(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto doc = object_body(request.body(), {"role", "name"});
    auto role = role_member(doc);
    auto label = string_member(doc, "name", false);
    db_.run(std::move(response), ctx, [app = ctx.app, role, label](db::Connection& conn) {
        auto created = KeyStore(conn).create(app, role, label);
        return Reply{Code::Created, key_to_json(created.key, created.plaintext), {}};
    });
}

void KeysHandler::revoke(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "key");
    db_.run(std::move(response), ctx, [id, app = ctx.app](db::Connection& conn) {
        auto key = KeyStore(conn).revoke(id, app);
        if (!key) throw NotFound("no such key");
        return Reply{Code::Ok, key_to_json(*key), {}};
    });
}

}  // namespace drover::api
