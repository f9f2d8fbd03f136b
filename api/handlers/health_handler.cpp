#include "api/handlers/health_handler.hpp"

#include "api/http_error.hpp"
#include "core/db/migrator.hpp"
#include "core/error.hpp"

namespace drover::api {

using Pistache::Http::Code;

void HealthHandler::healthz(RequestContext ctx, const Pistache::Rest::Request&, Pistache::Http::ResponseWriter& response) {
    send_reply(response, Reply{Code::Ok, R"({"status":"ok"})", {}}, ctx);
}

void HealthHandler::readyz(RequestContext ctx, const Pistache::Rest::Request&, Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [ctx](db::Connection& conn) {
        std::string version;
        try {
            auto r = conn.query("schema/current_version");
            if (!r.is_null(0, 0)) version = r.text(0, 0);
        } catch (const DbError& e) {
            if (e.sqlstate() != "42P01") throw;  // no schema_migrations table: never migrated
        }
        const std::string& expected = db::latest_migration_version();
        if (version != expected) {
            return error_reply(Code::Service_Unavailable, "schema_outdated",
                               "database schema is at '" + version + "', this build needs '" + expected +
                                   "': run the migrations",
                               ctx);
        }
        return Reply{Code::Ok, R"({"status":"ready","schema_version":")" + version + "\"}", {}};
    });
}

}  // namespace drover::api
