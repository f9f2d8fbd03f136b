#include "core/store/upload_session_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>

#include "core/crypto.hpp"
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
    p.data_offset = r.optional_int64(row, r.column("data_offset"));
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
                                                       std::string_view bytes, const std::string& sha256,
                                                       std::int64_t max_total) {
    const std::string hash = sha256.empty() ? storage::sha256_hex(bytes) : sha256;
    const auto size = static_cast<std::int64_t>(bytes.size());
    return db::in_transaction(conn_, [&]() -> std::optional<UploadPart> {
        // The session's files lock (a completion in progress reads them), then
        // its row lock: parts of one session are written one at a time, so a
        // part's file and its row always agree.
        conn_.query("uploads/lock_session_files_for_part", db::Params().add(id));
        if (conn_.query("uploads/lock_session", db::Params().add(id).add(app).null()).empty()) return std::nullopt;
        auto rows = conn_.query("uploads/list_parts", db::Params().add(id));
        std::int64_t total = size;
        // In place when this is the next part in order, never sent before,
        // and every part before it is in the data file, end to end.
        bool in_place = true;
        std::int64_t offset = 0, next = 1;
        for (int i = 0; i < rows.rows(); ++i) {
            auto part = part_from_row(rows, i);
            if (part.number != number) total += part.size;
            if (part.number == number) in_place = false;
            if (part.number < number) {
                in_place = in_place && part.number == next && part.data_offset == offset;
                offset += part.size;
                ++next;
            }
        }
        in_place = in_place && next == number;
        if (total > max_total) {
            throw InputError(InputError::Kind::invalid, "upload_too_large",
                             "the parts together would be " + std::to_string(total) + " bytes; at most " +
                                 std::to_string(max_total) + " are accepted",
                             "body");
        }
        auto dir = folder(id);
        std::filesystem::create_directories(dir);
        std::optional<std::int64_t> data_offset;
        if (in_place) {
            // Whatever lies past `offset` was written by an attempt that never
            // committed: it is overwritten, and cut off.
            write_durably(dir / "data", bytes, offset);
            if (offset == 0) storage::fsync_folder(dir);  // the data file's name
            data_offset = offset;
        } else {
            auto temp = dir / (std::to_string(number) + ".tmp-" + crypto::to_hex(crypto::random_bytes(8)));
            write_durably(temp, bytes, 0);
            std::filesystem::rename(temp, dir / std::to_string(number));
            storage::fsync_folder(dir);  // the rename, before the row names the file
        }
        auto r = conn_.query("uploads/put_part",
                             db::Params().add(id).add(number).add(size).add(hash).add(data_offset));
        return part_from_row(r, 0);
    });
}

// Writes `bytes` at `offset` of `path` (created if missing), cuts the file
// there, and fsyncs it (its name is the caller's to make durable).
void UploadSessionStore::write_durably(const std::filesystem::path& path, std::string_view bytes, std::int64_t offset) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
    try {
        storage::write_all(fd, bytes, path, offset);
        if (::ftruncate(fd, offset + static_cast<std::int64_t>(bytes.size())) != 0 || ::fsync(fd) != 0) {
            throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
        }
        ::close(fd);
        fd = -1;
    } catch (...) {
        if (fd >= 0) ::close(fd);
        throw;
    }
}

UploadSessionStore::FilesLock::FilesLock(db::Connection& conn, std::int64_t id) : conn_(conn), id_(id) {
    conn_.query("uploads/lock_session_files", db::Params().add(id_));
}

UploadSessionStore::FilesLock::~FilesLock() {
    if (conn_.broken()) return;  // a lost connection released it
    try {
        conn_.query("uploads/unlock_session_files", db::Params().add(id_));
    } catch (...) {
        // Released with the connection at the latest; nothing better to do here.
    }
}

void UploadSessionStore::check_complete(const UploadSession& session) {
    if (session.parts.empty()) {
        throw InputError(InputError::Kind::invalid, "missing_parts", "the upload has no parts yet", "parts");
    }
    std::int64_t expected = 1;
    for (const auto& part : session.parts) {
        if (part.number != expected) {
            throw InputError(InputError::Kind::invalid, "missing_parts",
                             "part " + std::to_string(expected) + " is missing; parts are numbered from 1 without gaps",
                             "parts");
        }
        ++expected;
    }
}

std::optional<std::filesystem::path> UploadSessionStore::assembled_in_place(const UploadSession& session) {
    check_complete(session);
    std::int64_t offset = 0;
    for (const auto& part : session.parts) {
        if (part.data_offset != offset) return std::nullopt;
        offset += part.size;
    }
    auto path = folder(session.id) / "data";
    std::error_code ec;
    auto size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
    if (ec || size < offset) throw Error("the data file of upload session " + std::to_string(session.id) +
                                         " does not match its parts");
    if (size > offset) {
        // Left by a part whose row never committed: cut (and made durable) before it is stored.
        write_durably(path, {}, offset);
    }
    return path;
}

void UploadSessionStore::assemble(const UploadSession& session, storage::TempFile& into) {
    check_complete(session);
    std::string buffer(1 << 20, '\0');
    for (const auto& part : session.parts) {
        auto path = part.data_offset ? folder(session.id) / "data" : folder(session.id) / std::to_string(part.number);
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error("part file missing: " + path.string());
        if (part.data_offset) in.seekg(*part.data_offset);
        std::int64_t left = part.size;
        while (left > 0 && in) {
            in.read(buffer.data(), static_cast<std::streamsize>(std::min<std::int64_t>(left, buffer.size())));
            auto n = in.gcount();
            if (n <= 0) break;
            into.append(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            left -= n;
        }
        if (left != 0) throw Error("part file " + path.string() + " does not match its record");
    }
}

void UploadSessionStore::remove(std::int64_t id) {
    forget(id);
    remove_files(id);
}

void UploadSessionStore::forget(std::int64_t id) { conn_.query("uploads/delete_session", db::Params().add(id)); }

void UploadSessionStore::remove_files(std::int64_t id) {
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
