#pragma once
// Parted uploads (drover.upload_sessions, drover.upload_parts): a zip too
// large for one request is sent as numbered parts, then completed: checked
// and stored as an upload (UploadStore). So the API holds at most one part
// per request in memory. Parts sent in order go into one file per session,
// <storage root>/sessions/<id>/data, at their offsets: completing such a
// session moves that file into place. A part sent out of order or again gets
// a file of its own (sessions/<id>/<n>), and completing copies every part
// into a temp file instead (see migration 20261201002000).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/connection.hpp"
#include "core/storage/blob_store.hpp"

namespace drover {

struct UploadPart {
    std::int64_t number = 0;
    std::int64_t size = 0;
    std::string sha256;
    std::string received_at;
    std::optional<std::int64_t> data_offset;  // in the session's data file; none: in a file of its own
};

struct UploadSession {
    std::int64_t id = 0;
    std::string app;
    std::string created_at;
    std::string expires_at;
    std::vector<UploadPart> parts;
};

class UploadSessionStore {
public:
    UploadSessionStore(db::Connection& conn, storage::BlobStore& blobs) : conn_(conn), blobs_(blobs) {}

    UploadSession create(const std::string& app, std::int64_t ttl_s);
    // An open session of the app with its parts; nothing for an unknown,
    // expired or another app's one.
    std::optional<UploadSession> get(std::int64_t id, const std::string& app);
    // Writes part `number` (replacing one sent before), fsynced before its
    // row is committed. `sha256`: the bytes' hash if the caller has it, else
    // "". Nothing when the session is not open for this app. Throws
    // InputError (413-worthy code upload_too_large) when the parts together
    // would pass `max_total`.
    std::optional<UploadPart> put_part(std::int64_t id, const std::string& app, std::int64_t number,
                                       std::string_view bytes, const std::string& sha256, std::int64_t max_total);
    // Held while a session is completed (from before get() to after the
    // upload is stored): parts of that session, and another completion of
    // it, wait; the lock goes with the object (or with the connection).
    class FilesLock {
    public:
        FilesLock(db::Connection& conn, std::int64_t id);
        ~FilesLock();
        FilesLock(const FilesLock&) = delete;
        FilesLock& operator=(const FilesLock&) = delete;

    private:
        db::Connection& conn_;
        std::int64_t id_;
    };
    FilesLock lock_files(std::int64_t id) { return FilesLock(conn_, id); }

    // Throws InputError missing_parts unless the parts are 1..N without gaps.
    static void check_complete(const UploadSession& session);
    // The session's data file when it holds every part, in order and nothing
    // else (cut to their total size): the assembled upload, to be moved into
    // place. Nothing when some part is in a file of its own.
    std::optional<std::filesystem::path> assembled_in_place(const UploadSession& session);
    // Concatenates parts 1..N (no gaps) into a finished temp file under
    // BlobStore::temp_dir(); throws InputError when a part is missing.
    void assemble(const UploadSession& session, storage::TempFile& into);
    // The session's rows and part files.
    void remove(std::int64_t id);
    // The session's rows only (in the transaction that stores its upload);
    // its folder is removed after the commit (remove_files), or by the
    // sessions sweep, which removes folders without a session.
    void forget(std::int64_t id);
    void remove_files(std::int64_t id);

    std::filesystem::path folder(std::int64_t id) const { return blobs_.root() / "sessions" / std::to_string(id); }

private:
    static void write_durably(const std::filesystem::path& path, std::string_view bytes, std::int64_t offset);

    db::Connection& conn_;
    storage::BlobStore& blobs_;
};

std::string upload_session_to_json(const UploadSession& session, std::int64_t max_part_bytes);

}  // namespace drover
