#include "api/handlers/status_handler.hpp"

#include <spdlog/spdlog.h>

#include "core/db/migrator.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

#ifndef DROVER_VERSION
#define DROVER_VERSION "unknown"
#endif

namespace drover::api {

using Pistache::Http::Code;

void StatusHandler::status(RequestContext ctx, const Pistache::Rest::Request&,
                           Pistache::Http::ResponseWriter& response) {
    auto uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    auto use = db_.use();  // before this request takes a connection
    auto waiting = long_poll_ ? long_poll_->waiting() : 0;
    db_.run(std::move(response), ctx, [uptime_s, use, waiting, ctx](db::Connection& conn) {
        std::optional<std::string> version;
        bool reachable = true;
        try {
            auto r = conn.query("schema/current_version");
            if (!r.empty() && !r.is_null(0, 0)) version = std::string(r.text(0, 0));
        } catch (const DbError& e) {
            // Never migrated (no schema_migrations) still means reachable.
            if (e.sqlstate() != "42P01") {
                spdlog::warn("request {}: status: {}", ctx.request_id, e.what());
                reachable = false;
            }
        }
        const auto& expected = db::latest_migration_version();
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("version");
        w.String(DROVER_VERSION);
        w.Key("uptime_s");
        w.Double(uptime_s);
        w.Key("database");
        w.StartObject();
        w.Key("reachable");
        w.Bool(reachable);
        w.Key("schema_version");
        json::write_optional_string(w, version);
        w.Key("schema_expected");
        w.String(expected);
        w.Key("schema_current");
        w.Bool(version && *version == expected);
        w.EndObject();
        w.Key("pool");
        w.StartObject();
        w.Key("connections");
        w.Uint64(use.connections);
        w.Key("busy");
        w.Uint64(use.busy);
        w.Key("queued");
        w.Uint64(use.queued);
        w.Key("queue_limit");
        w.Uint64(use.queue_limit);
        w.EndObject();
        w.Key("long_poll");
        w.StartObject();
        w.Key("waiting");
        w.Uint64(waiting);
        w.EndObject();
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

}  // namespace drover::api
