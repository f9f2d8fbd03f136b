#include "api/handlers/storage_admin_handler.hpp"

#include <charconv>

#include "api/http/path_params.hpp"
#include "api/http_error.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

Reply record_reply(db::Connection& conn, std::int64_t id) {
    auto r = conn.query("uploads/get_any", db::Params().add(id));
    if (r.empty()) throw NotFound("no such upload");
    return Reply{Code::Ok, std::string(r.text(0, 0)), {}};
}

}  // namespace

void StorageAdminHandler::set_flags(RequestContext ctx, const Pistache::Rest::Request& request,
                                    Pistache::Http::ResponseWriter& response, std::optional<bool> whitelisted,
                                    std::optional<bool> is_protected) {
    auto id = path_id(request, "upload");
    db_.run(std::move(response), ctx, [id, whitelisted, is_protected, ctx](db::Connection& conn) {
        try {
            auto r = conn.query("uploads/set_flags", db::Params().add(id).add(whitelisted).add(is_protected));
            if (r.empty()) throw NotFound("no such upload");
        } catch (const DbError& e) {
            if (e.sqlstate() != "23514") throw;
            return error_reply(Code::Conflict, "protected",
                               "the upload is protected, which implies whitelisted: DELETE its protect first", ctx);
        }
        return record_reply(conn, id);
    });
}

void StorageAdminHandler::whitelist(RequestContext ctx, const Pistache::Rest::Request& request,
                                    Pistache::Http::ResponseWriter& response) {
    set_flags(std::move(ctx), request, response, true, std::nullopt);
}

void StorageAdminHandler::unwhitelist(RequestContext ctx, const Pistache::Rest::Request& request,
                                      Pistache::Http::ResponseWriter& response) {
    set_flags(std::move(ctx), request, response, false, std::nullopt);
}

void StorageAdminHandler::protect(RequestContext ctx, const Pistache::Rest::Request& request,
                                  Pistache::Http::ResponseWriter& response) {
    set_flags(std::move(ctx), request, response, true, true);
}

void StorageAdminHandler::unprotect(RequestContext ctx, const Pistache::Rest::Request& request,
                                    Pistache::Http::ResponseWriter& response) {
    set_flags(std::move(ctx), request, response, std::nullopt, false);
}

void StorageAdminHandler::get_upload(RequestContext ctx, const Pistache::Rest::Request& request,
                                     Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload");
    db_.run(std::move(response), ctx, [id](db::Connection& conn) { return record_reply(conn, id); });
}

void StorageAdminHandler::storage(RequestContext ctx, const Pistache::Rest::Request&,
                                  Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [this](db::Connection& conn) {
        auto r = conn.query("sweeps/storage_usage");
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("storage_dir");
        w.String(settings_.storage_root.string());
        w.Key("max_bytes");
        w.Int64(settings_.max_storage_bytes);
        w.Key("eviction_threshold_bytes");
        w.Int64(settings_.max_storage_bytes / 100 * settings_.eviction_threshold_percent);
        w.Key("eviction_target_bytes");
        w.Int64(settings_.max_storage_bytes / 100 * settings_.eviction_target_percent);
        for (const char* name : {"used_bytes", "blobs", "uploads", "whitelisted_uploads", "artifacts",
                                 "upload_sessions", "queued_deletions"}) {
            w.Key(name);
            w.Int64(r.int64(0, name));
        }
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void StorageAdminHandler::run_sweep(RequestContext ctx, const Pistache::Rest::Request& request,
                                    Pistache::Http::ResponseWriter& response) {
    auto name = request.param(":name").as<std::string>();
    const auto& names = storage_sweep_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) throw NotFound("no sweep named " + name);
    bool dry_run = request.query().get("dry_run").value_or("false") == "true";
    db_.run(std::move(response), ctx, [this, name, dry_run](db::Connection& conn) {
        auto results = run_storage_sweeps(conn, settings_, {name}, dry_run);
        const auto& c = results.at(0).second;
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("name");
        w.String(name);
        w.Key("dry_run");
        w.Bool(dry_run);
        w.Key("ran");
        w.Bool(c.ran);
        w.Key("records");
        w.Int64(c.records);
        w.Key("blobs");
        w.Int64(c.blobs);
        w.Key("files_deleted");
        w.Int64(c.files_deleted);
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

}  // namespace drover::api
