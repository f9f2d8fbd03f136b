#include "api/handlers/uploads_handler.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <memory>

#include "api/handlers/artifacts_handler.hpp"
#include "api/http/path_params.hpp"
#include "api/http/request_body.hpp"
#include "api/http_error.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/store/upload_session_store.hpp"
#include "core/store/upload_store.hpp"
#include "core/sweeps/storage_sweeps.hpp"

namespace drover::api {

using Pistache::Http::Code;

namespace {

// {"sha256": "<64 hex>"} or an empty body; anything else is refused.
std::optional<std::string> expected_sha256(const std::string& body) {
    if (body.empty()) return std::nullopt;
    auto doc = json::parse(body);
    auto invalid = [](std::string code, std::string message, std::string field) {
        return InputError(InputError::Kind::invalid, std::move(code), std::move(message), std::move(field));
    };
    if (!doc.IsObject()) throw invalid("wrong_type", "the body must be a JSON object", "");
    std::optional<std::string> out;
    for (auto& m : doc.GetObject()) {
        std::string name(json::view(m.name));
        if (name != "sha256") throw invalid("unknown_field", "unknown field \"" + name + "\"", name);
        if (!m.value.IsString()) throw invalid("wrong_type", "\"sha256\" must be a string", "sha256");
        std::string v(json::view(m.value));
        bool hex = v.size() == 64;
        for (char c : v) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        if (!hex) throw invalid("invalid_value", "\"sha256\" must be 64 lower-case hex digits", "sha256");
        out = v;
    }
    return out;
}

Reply too_large(const std::string& message, const RequestContext& ctx) {
    return error_reply(Code::Request_Entity_Too_Large, "upload_too_large", message, ctx, "body");
}

}  // namespace

UploadsHandler::UploadsHandler(DbExecutor& db, Options options)
    : db_(db), options_(std::move(options)), blobs_(options_.storage_root) {}

// Storage full: the eviction sweep runs once, now, making room for `size`
// bytes (down to the target, or further if the upload needs it), and the
// store is tried again; still full (spared files fill it) → StorageFull, 507.
Upload UploadsHandler::store_evicting(db::Connection& conn, std::int64_t size, const std::function<Upload()>& store) {
    try {
        return store();
    } catch (const StorageFull&) {
        if (options_.max_storage_bytes <= 0) throw;
        auto room = options_.max_storage_bytes - size;
        if (room < 0) throw;
        auto target = std::min(room, options_.max_storage_bytes / 100 * options_.eviction_target_percent);
        auto c = StorageEviction::run_once(conn, blobs_, room, target);
        spdlog::info("storage full: evicted {} blob(s), {} file(s) deleted", c.blobs, c.files_deleted);
        return store();
    }
}

void UploadsHandler::create(RequestContext ctx, const Pistache::Rest::Request& request,
                            Pistache::Http::ResponseWriter& response) {
    // Checking a zip can take a while (a bomb is read up to the cap): off the
    // reactor thread, with the body moved there.
    auto body = http::request_body(request, response);
    if (body->bytes.empty()) {
        throw InputError(InputError::Kind::invalid, "not_a_zip", "the body is empty; send the zip as the body",
                         "body");
    }
    db_.run(std::move(response), ctx, [this, body, ctx](db::Connection& conn) {
        auto summary = archive::check_zip(body->bytes, options_.limits);
        auto sha256 = body->sha256.empty() ? storage::sha256_hex(body->bytes) : body->sha256;
        NewUpload upload;
        upload.app = ctx.app;
        upload.entries = static_cast<std::int64_t>(summary.entries);
        upload.uncompressed_size = static_cast<std::int64_t>(summary.uncompressed_size);
        Upload stored;
        try {
            stored = store_evicting(conn, static_cast<std::int64_t>(body->bytes.size()), [&] {
                return UploadStore(conn, blobs_).store(upload, sha256, body->bytes, options_.max_storage_bytes);
            });
        } catch (const StorageFull& e) {
            spdlog::warn("request {}: {}", ctx.request_id, e.what());
            return error_reply(Code::Insufficient_Storage, "storage_full", e.what(), ctx);
        }
        Reply reply{Code::Created, upload_to_json(stored), {}};
        reply.headers.emplace_back("Location", options_.root_path + "/v1/uploads/" + std::to_string(stored.id));
        return reply;
    });
}

void UploadsHandler::content(RequestContext ctx, const Pistache::Rest::Request& request,
                             Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload");
    std::string range_header, if_none_match;
    if (auto h = request.headers().tryGetRaw("Range")) range_header = h->value();
    if (auto h = request.headers().tryGetRaw("If-None-Match")) if_none_match = h->value();
    db_.run(std::move(response), ctx, [this, id, range_header, if_none_match, ctx](db::Connection& conn) {
        auto upload = UploadStore(conn, blobs_).get(id, ctx.app);
        if (!upload) throw NotFound("no such upload");
        return file_reply(blobs_, upload->sha256, upload->size, upload->media_type, range_header, if_none_match, ctx);
    });
}

void UploadsHandler::get(RequestContext ctx, const Pistache::Rest::Request& request,
                         Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload");
    db_.run(std::move(response), ctx, [this, id, app = ctx.app](db::Connection& conn) {
        auto upload = UploadStore(conn, blobs_).get(id, app);
        if (!upload) throw NotFound("no such upload");
        return Reply{Code::Ok, upload_to_json(*upload), {}};
    });
}

}  // namespace drover::api

namespace drover::api {

void UploadsHandler::create_session(RequestContext ctx, const Pistache::Rest::Request&,
                                    Pistache::Http::ResponseWriter& response) {
    db_.run(std::move(response), ctx, [this, app = ctx.app](db::Connection& conn) {
        auto session = UploadSessionStore(conn, blobs_).create(app, options_.session_ttl_s);
        Reply reply{Code::Created, upload_session_to_json(session, options_.max_part_bytes), {}};
        reply.headers.emplace_back("Location",
                                   options_.root_path + "/v1/uploads/sessions/" + std::to_string(session.id));
        return reply;
    });
}

void UploadsHandler::put_part(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload session", ":id");
    auto number = path_id(request, "part", ":n");
    if (number > 10000) {
        throw InputError(InputError::Kind::invalid, "invalid_value", "parts are numbered from 1 to 10000", "n");
    }
    auto body = http::request_body(request, response);
    if (body->bytes.empty()) {
        throw InputError(InputError::Kind::invalid, "empty_part", "a part must hold at least one byte", "body");
    }
    if (static_cast<std::int64_t>(body->bytes.size()) > options_.max_part_bytes) {
        send_reply(response,
                   too_large("a part may be at most " + std::to_string(options_.max_part_bytes) + " bytes", ctx), ctx);
        return;
    }
    db_.run(std::move(response), ctx, [this, id, number, body, ctx](db::Connection& conn) {
        std::optional<UploadPart> part;
        try {
            part = UploadSessionStore(conn, blobs_).put_part(id, ctx.app, number, body->bytes, body->sha256,
                                                             options_.max_parted_bytes);
        } catch (const InputError& e) {
            if (e.code() == "upload_too_large") return too_large(e.what(), ctx);
            throw;
        }
        if (!part) throw NotFound("no such upload session");
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("number");
        w.Int64(part->number);
        w.Key("size");
        w.Int64(part->size);
        w.Key("sha256");
        w.String(part->sha256);
        w.EndObject();
        return Reply{Code::Ok, std::string(buffer.GetString(), buffer.GetSize()), {}};
    });
}

void UploadsHandler::get_session(RequestContext ctx, const Pistache::Rest::Request& request,
                                 Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload session", ":id");
    db_.run(std::move(response), ctx, [this, id, app = ctx.app](db::Connection& conn) {
        auto session = UploadSessionStore(conn, blobs_).get(id, app);
        if (!session) throw NotFound("no such upload session");
        return Reply{Code::Ok, upload_session_to_json(*session, options_.max_part_bytes), {}};
    });
}

void UploadsHandler::complete(RequestContext ctx, const Pistache::Rest::Request& request,
                              Pistache::Http::ResponseWriter& response) {
    auto id = path_id(request, "upload session", ":id");
    auto expected = expected_sha256(request.body());
    db_.run(std::move(response), ctx, [this, id, expected, ctx](db::Connection& conn) {
        UploadSessionStore sessions(conn, blobs_);
        // Until the upload is stored: no part of this session is written, and
        // no other completion of it runs, while its files are read and moved.
        auto files_lock = sessions.lock_files(id);
        auto session = sessions.get(id, ctx.app);
        if (!session) throw NotFound("no such upload session");
        // Parts sent in order are already one file, the session's data file;
        // otherwise they are copied into a temp file (removed on any failure).
        std::int64_t size = 0;
        for (const auto& part : session->parts) size += part.size;
        auto in_place = sessions.assembled_in_place(*session);
        std::unique_ptr<storage::TempFile> copy;
        std::string sha256;
        archive::ZipSummary summary;
        std::exception_ptr refused;
        auto check = [&](const std::filesystem::path& path) {
            try {
                summary = archive::check_zip_file(path, options_.limits);
            } catch (const archive::ZipRejected&) {
                refused = std::current_exception();
            }
        };
        if (in_place) {
            // The hash and the zip check each read the whole file: on two threads.
            auto hashing = std::async(std::launch::async, [&path = *in_place] { return storage::sha256_of_file(path); });
            check(*in_place);
            sha256 = hashing.get();
        } else {
            copy = std::make_unique<storage::TempFile>(blobs_.temp_dir());
            sessions.assemble(*session, *copy);
            sha256 = copy->finish();
            if (!expected || *expected == sha256) check(copy->path());
        }
        if (expected && *expected != sha256) {
            throw InputError(InputError::Kind::invalid, "sha256_mismatch",
                             "the parts hash to " + sha256 + ", not to the sha256 sent; the session stays open",
                             "sha256");
        }
        if (refused) {
            sessions.remove(id);  // a refused zip leaves nothing, its parts included
            std::rethrow_exception(refused);
        }
        NewUpload upload;
        upload.app = ctx.app;
        upload.entries = static_cast<std::int64_t>(summary.entries);
        upload.uncompressed_size = static_cast<std::int64_t>(summary.uncompressed_size);
        Upload stored;
        try {
            // The session's rows go in the upload's own transaction: a crash
            // after the commit cannot leave a session to complete twice, and a
            // crash before it leaves the session whole (its data file was
            // linked, not moved).
            auto forget_session = [&] { sessions.forget(id); };
            stored = store_evicting(conn, size, [&] {
                UploadStore store(conn, blobs_);
                return in_place
                           ? store.store(upload, sha256, *in_place, size, options_.max_storage_bytes, forget_session)
                           : store.store(upload, sha256, *copy, options_.max_storage_bytes, forget_session);
            });
        } catch (const StorageFull& e) {
            spdlog::warn("request {}: {}", ctx.request_id, e.what());
            return error_reply(Code::Insufficient_Storage, "storage_full", e.what(), ctx);
        }
        sessions.remove_files(id);
        Reply reply{Code::Created, upload_to_json(stored), {}};
        reply.headers.emplace_back("Location", options_.root_path + "/v1/uploads/" + std::to_string(stored.id));
        return reply;
    });
}

}  // namespace drover::api
