#include "core/store/upload_session_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

UploadPart part_from_row(const db::Result& r, int row) {
    UploadPart p;
    p.number = r.int64(row, "number");
    p.size = r.int64(row, "size");
    p.sha256 = std::string(r.text(row, "sha256"));
    p.received_at = rfc3339(r.text(row, "received_at"));
    return p;
}

UploadSession session_from_row(const db::Result& r, int row) {
    UploadSession s;
    s.id = r.int64(row, "id");
    s.app = std::string(r.text(row, "app"));
    s.created_at = rfc3339(r.text(row, "created_at"));
    s.expires_at = rfc3339(r.text(row, "expires_at"));
    return s;
}

}  // namespace

UploadSession UploadSessionStore::create(const std::string& app, std::int64_t ttl_s) {
    auto r = conn_.query("uploads/create_session", db::Params().add(app).add(ttl_s).null());
    return session_from_row(r, 0);
}

std::optional<UploadSession> UploadSessionStore::get(std::int64_t id, const std::string& app) {
    return db::in_transaction(conn_, [&]() -> std::optional<UploadSession> {
        auto r = conn_.query("uploads/lock_session", db::Params().add(id).add(app).null());
        if (r.empty()) return std::nullopt;
        auto session = session_from_row(r, 0);
        auto parts = conn_.query("uploads/list_parts", db::Params().add(id));
        for (int i = 0; i < parts.rows(); ++i) session.parts.push_back(part_from_row(parts, i));
        return session;
    });
}

std::optional<UploadPart> UploadSessionStore::put_part(std::int64_t id, const std::string& app, std::int64_t number,
                                                       std::string_view bytes, std::int64_t max_total) {
    return db::in_transaction(conn_, [&]() -> std::optional<UploadPart> {
        // The session row lock: parts of one session are written one at a
        // time, so a part's file and its row always agree.
        if (conn_.query("uploads/lock_session", db::Params().add(id).add(app).null()).empty()) return std::nullopt;
        auto parts = conn_.query("uploads/list_parts", db::Params().add(id));
        std::int64_t total = static_cast<std::int64_t>(bytes.size());
        for (int i = 0; i < parts.rows(); ++i) {
            if (parts.int64(i, "number") != number) total += parts.int64(i, "size");
        }
        if (total > max_total) {
            throw InputError(InputError::Kind::invalid, "upload_too_large",
                             "the parts together would be " + std::to_string(total) + " bytes; at most " +
                                 std::to_string(max_total) + " are accepted",
                             "body");
        }
        storage::TempFile temp(blobs_.temp_dir());
        temp.append(bytes);
        auto sha256 = temp.finish();
        auto dir = folder(id);
        std::filesystem::create_directories(dir);
        std::filesystem::rename(temp.path(), dir / std::to_string(number));
        temp.release();
        auto r = conn_.query("uploads/put_part", db::Params()
                                                     .add(id)
                                                     .add(number)
                                                     .add(static_cast<std::int64_t>(bytes.size()))
                                                     .add(sha256));
        return part_from_row(r, 0);
    });
}

void UploadSessionStore::assemble(const UploadSession& session, storage::TempFile& into) {
    if (session.parts.empty()) {
        throw InputError(InputError::Kind::invalid, "missing_parts", "the upload has no parts yet", "parts");
    }
    std::int64_t expected = 1;
    std::string buffer(1 << 20, '\0');
    for (const auto& part : session.parts) {
        if (part.number != expected) {
            throw InputError(InputError::Kind::invalid, "missing_parts",
                             "part " + std::to_string(expected) + " is missing; parts are numbered from 1 without gaps",
                             "parts");
        }
        ++expected;
        auto path = folder(session.id) / std::to_string(part.number);
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error("part file missing: " + path.string());
        std::int64_t read = 0;
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            auto n = in.gcount();
            if (n <= 0) break;
            into.append(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            read += n;
        }
        if (read != part.size) throw Error("part file " + path.string() + " does not match its record");
    }
}

void UploadSessionStore::remove(std::int64_t id) {
    conn_.query("uploads/delete_session", db::Params().add(id));
    std::error_code ignored;
    std::filesystem::remove_all(folder(id), ignored);
}

std::string upload_session_to_json(const UploadSession& s, std::int64_t max_part_bytes) {
    rapidjson::StringBuffer buffer;
    json::Writer w(buffer);
    w.StartObject();
    w.Key("id");
    w.String(std::to_string(s.id));
    w.Key("created_at");
    w.String(s.created_at);
    w.Key("expires_at");
    w.String(s.expires_at);
    w.Key("max_part_bytes");
    w.Int64(max_part_bytes);
    std::int64_t total = 0;
    w.Key("parts");
    w.StartArray();
    for (const auto& p : s.parts) {
        total += p.size;
        w.StartObject();
        w.Key("number");
        w.Int64(p.number);
        w.Key("size");
        w.Int64(p.size);
        w.Key("sha256");
        w.String(p.sha256);
        w.Key("received_at");
        w.String(p.received_at);
        w.EndObject();
    }
    w.EndArray();
    w.Key("size");
    w.Int64(total);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace drover
