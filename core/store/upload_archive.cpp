#include "core/store/upload_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/job.hpp"
#include "core/json.hpp"

namespace drover {
namespace {

constexpr const char* kManifest = "drover-export.json";
constexpr const char* kEnd = "drover-export.end";
constexpr std::size_t kMaxManifest = 256u << 20;  // 256 MiB of JSON: millions of records
constexpr std::size_t kBlock = 1u << 20;

bool is_sha256(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

InputError refused(const std::string& why) {
    return InputError(InputError::Kind::invalid, "bad_archive", "the archive is refused: " + why);
}

struct Record {
    std::string app, sha256, media_type, created_at, last_used_at;
    std::int64_t size = 0, entries = 0, uncompressed_size = 0;
    bool whitelisted = false, is_protected = false;
    std::optional<std::string> expires_at;
};

// ---- export ----------------------------------------------------------------

// A running SHA-256 (OpenSSL's EVP, as TempFile hashes).
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("SHA-256 unavailable");
    }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const char* data, std::size_t n) { EVP_DigestUpdate(ctx_, data, n); }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx_, digest, &len);
        return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(digest), len));
    }

private:
    EVP_MD_CTX* ctx_;
};

struct Writer {
    struct archive* a = archive_write_new();
    ~Writer() { archive_write_free(a); }
    void check(int rc, const std::string& what) {
        if (rc < ARCHIVE_WARN) throw Error("export: " + what + ": " + archive_error_string(a));
    }
    void entry(const std::string& name, std::int64_t size) {
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_size(e.get(), size);
        check(archive_write_header(a, e.get()), name);
    }
    void data(const char* p, std::size_t n, const std::string& name) {
        if (archive_write_data(a, p, n) != static_cast<la_ssize_t>(n)) {
            throw Error("export: " + name + ": " + archive_error_string(a));
        }
    }
    void whole(const std::string& name, const std::string& bytes) {
        entry(name, static_cast<std::int64_t>(bytes.size()));
        data(bytes.data(), bytes.size(), name);
    }
};

}  // namespace

ExportSummary export_uploads(db::Connection& conn, storage::BlobStore& blobs, int fd, bool whitelisted_only) {
    conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        auto r = conn.query("uploads/export_list", db::Params().add(whitelisted_only));
        ExportSummary summary;
        std::vector<std::pair<std::string, std::int64_t>> contents;  // distinct, in first-use order
        std::set<std::string> seen;
        rapidjson::StringBuffer buffer;
        json::Writer w(buffer);
        w.StartObject();
        w.Key("format");
        w.String("drover-export");
        w.Key("version");
        w.Int(1);
        w.Key("uploads");
        w.StartArray();
        for (int i = 0; i < r.rows(); ++i) {
            std::string sha(r.text(i, "sha256"));
            w.StartObject();
            w.Key("id");
            w.String(std::string(r.text(i, "id")));
            for (const char* key : {"app", "sha256", "media_type"}) {
                w.Key(key);
                w.String(std::string(r.text(i, key)));
            }
            for (const char* key : {"size", "entries", "uncompressed_size"}) {
                w.Key(key);
                w.Int64(r.int64(i, key));
            }
            for (const char* key : {"created_at", "last_used_at"}) {
                w.Key(key);
                w.String(rfc3339(r.text(i, key)));
            }
            w.Key("whitelisted");
            w.Bool(r.boolean(i, r.column("whitelisted")));
            w.Key("protected");
            w.Bool(r.boolean(i, r.column("protected")));
            w.Key("expires_at");
            auto expires = r.optional_text(i, r.column("expires_at"));
            json::write_optional_string(w, expires ? std::optional(rfc3339(*expires)) : std::nullopt);
            w.EndObject();
            if (seen.insert(sha).second) contents.emplace_back(sha, r.int64(i, "size"));
            ++summary.uploads;
        }
        w.EndArray();
        w.Key("blobs");
        w.StartArray();
        for (const auto& [sha, size] : contents) {
            w.StartObject();
            w.Key("sha256");
            w.String(sha);
            w.Key("size");
            w.Int64(size);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::string manifest(buffer.GetString(), buffer.GetSize());

        Writer out;
        archive_write_set_format_pax_restricted(out.a);
        out.check(archive_write_open_fd(out.a, fd), "open");
        out.whole(kManifest, manifest);
        std::string block(kBlock, '\0');
        for (const auto& [sha, size] : contents) {
            auto path = blobs.path_of(sha);
            int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (in < 0) throw Error("export: the file of " + sha + " is missing: " + std::strerror(errno));
            std::unique_ptr<int, void (*)(int*)> closer(&in, [](int* f) { ::close(*f); });
            // Hashed as it is copied: a file that does not match its name is not exported.
            Sha256 check;
            out.entry("blobs/" + sha, size);
            std::int64_t copied = 0;
            for (;;) {
                auto n = ::read(in, block.data(), block.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw Error("export: cannot read " + path.string() + ": " + std::strerror(errno));
                if (n == 0) break;
                if (copied + n > size) break;
                out.data(block.data(), static_cast<std::size_t>(n), sha);
                check.update(block.data(), static_cast<std::size_t>(n));
                copied += n;
            }
            if (copied != size || check.hex() != sha) {
                throw Error("export: the file of " + sha + " does not match its record (size or sha256); run "
                            "`drover sweep reconcile`");
            }
            summary.bytes += size;
            ++summary.blobs;
        }
        out.whole(kEnd, storage::sha256_hex(manifest) + "\n");
        out.check(archive_write_close(out.a), "close");
        conn.exec("COMMIT");
        return summary;
    } catch (...) {
        if (!conn.broken()) conn.exec("ROLLBACK");
        throw;
    }
}

namespace {

// ---- import ----------------------------------------------------------------

const rapidjson::Value& member(const rapidjson::Value& o, const char* name) {
    if (!o.IsObject() || !o.HasMember(name)) throw refused(std::string("a record lacks \"") + name + "\"");
    return o[name];
}
std::string str(const rapidjson::Value& o, const char* name) {
    const auto& v = member(o, name);
    if (!v.IsString()) throw refused(std::string("\"") + name + "\" must be a string");
    return std::string(json::view(v));
}
std::int64_t count(const rapidjson::Value& o, const char* name) {
    const auto& v = member(o, name);
    if (!v.IsInt64() || v.GetInt64() < 0) throw refused(std::string("\"") + name + "\" must be a count");
    return v.GetInt64();
}
bool flag(const rapidjson::Value& o, const char* name) {
    const auto& v = member(o, name);
    if (!v.IsBool()) throw refused(std::string("\"") + name + "\" must be true or false");
    return v.GetBool();
}

struct Manifest {
    std::vector<Record> records;
    std::map<std::string, std::int64_t> blobs;  // sha256 → size
};

Manifest read_manifest(const std::string& text) {
    rapidjson::Document doc;
    try {
        doc = json::parse(text);
    } catch (const InputError& e) {
        throw refused(std::string("its manifest is not JSON: ") + e.what());
    }
    if (!doc.IsObject() || !doc.HasMember("format") || !doc["format"].IsString() ||
        json::view(doc["format"]) != "drover-export") {
        throw refused("its manifest is not a drover export");
    }
    if (!doc.HasMember("version") || !doc["version"].IsInt() || doc["version"].GetInt() != 1) {
        throw refused("its manifest's version is not 1");
    }
    if (!doc.HasMember("uploads") || !doc["uploads"].IsArray() || !doc.HasMember("blobs") || !doc["blobs"].IsArray()) {
        throw refused("its manifest lacks \"uploads\" or \"blobs\"");
    }
    Manifest m;
    for (const auto& b : doc["blobs"].GetArray()) {
        auto sha = str(b, "sha256");
        if (!is_sha256(sha)) throw refused("\"" + sha + "\" is not a sha256");
        if (!m.blobs.emplace(sha, count(b, "size")).second) throw refused("content " + sha + " is listed twice");
    }
    for (const auto& u : doc["uploads"].GetArray()) {
        Record r;
        r.app = str(u, "app");
        r.sha256 = str(u, "sha256");
        r.media_type = str(u, "media_type");
        r.created_at = str(u, "created_at");
        r.last_used_at = str(u, "last_used_at");
        r.size = count(u, "size");
        r.entries = count(u, "entries");
        r.uncompressed_size = count(u, "uncompressed_size");
        r.whitelisted = flag(u, "whitelisted");
        r.is_protected = flag(u, "protected");
        const auto& e = member(u, "expires_at");
        if (e.IsString()) {
            r.expires_at = std::string(json::view(e));
        } else if (!e.IsNull()) {
            throw refused("\"expires_at\" must be a time or null");
        }
        auto b = m.blobs.find(r.sha256);
        if (b == m.blobs.end() || b->second != r.size) {
            throw refused("a record names content " + r.sha256 + " that the archive does not list with its size");
        }
        m.records.push_back(std::move(r));
    }
    return m;
}

struct Reader {
    struct archive* a = archive_read_new();
    ~Reader() { archive_read_free(a); }
    std::string error() const {
        const char* e = archive_error_string(a);
        return e ? e : "unknown error";
    }
};

}  // namespace

ImportSummary import_uploads(db::Connection& conn, storage::BlobStore& blobs, int fd) {
    Reader in;
    archive_read_support_format_tar(in.a);
    if (archive_read_open_fd(in.a, fd, 64 * 1024) != ARCHIVE_OK) throw refused("it cannot be read: " + in.error());
    archive_entry* entry = nullptr;
    // The next entry: a regular file of exactly this name (or, when `name` is
    // empty, any name, returned); false at the end of the archive.
    auto next = [&](std::string& name) {
        int rc = archive_read_next_header(in.a, &entry);
        if (rc == ARCHIVE_EOF) return false;
        if (rc < ARCHIVE_WARN) throw refused("it is damaged or truncated: " + in.error());
        const char* p = archive_entry_pathname(entry);
        name = p ? p : "";
        if (archive_entry_filetype(entry) != AE_IFREG) throw refused("entry \"" + name + "\" is not a regular file");
        return true;
    };
    // Reads the current entry's data, handing each block to `sink`; returns the byte count.
    auto read_data = [&](const std::function<void(std::string_view)>& sink) {
        std::string block(kBlock, '\0');
        std::int64_t total = 0;
        for (;;) {
            auto n = archive_read_data(in.a, block.data(), block.size());
            if (n < 0) throw refused("it is damaged or truncated: " + in.error());
            if (n == 0) return total;
            total += n;
            sink(std::string_view(block.data(), static_cast<std::size_t>(n)));
        }
    };

    std::string name;
    if (!next(name) || name != kManifest) throw refused(std::string("it does not start with ") + kManifest);
    std::string text;
    read_data([&](std::string_view b) {
        if (text.size() + b.size() > kMaxManifest) throw refused("its manifest is too large");
        text.append(b);
    });
    auto manifest = read_manifest(text);

    ImportSummary summary;
    std::vector<std::string> created;  // files this import put in place: removed if it fails
    conn.exec("BEGIN");
    try {
        std::vector<std::string> apps;
        for (const auto& r : manifest.records) apps.push_back(r.app);
        auto missing = conn.query("uploads/import_missing_apps", db::Params().add(apps));
        if (!missing.empty()) {
            throw InputError(InputError::Kind::invalid, "unknown_app",
                             "the archive's records belong to app \"" + std::string(missing.text(0, 0)) +
                                 "\", which this database does not have: create it first (drover apps create)");
        }
        std::set<std::string> stored;
        bool ended = false;
        while (next(name)) {
            if (ended) throw refused("entry \"" + name + "\" follows " + kEnd);
            if (name == kEnd) {
                std::string end;
                read_data([&](std::string_view b) {
                    if (end.size() < 128) end.append(b);
                });
                if (end != storage::sha256_hex(text) + "\n") throw refused(std::string(kEnd) + " does not match the manifest");
                ended = true;
                continue;
            }
            // Only blobs/<sha256> of listed content, once each; the name is never used as a path.
            if (name.rfind("blobs/", 0) != 0 || !is_sha256(std::string_view(name).substr(6))) {
                throw refused("unexpected entry \"" + name + "\"");
            }
            auto sha = name.substr(6);
            auto listed = manifest.blobs.find(sha);
            if (listed == manifest.blobs.end()) throw refused("content " + sha + " is not in the manifest");
            if (!stored.insert(sha).second) throw refused("content " + sha + " appears twice");
            storage::TempFile file(blobs.temp_dir());
            read_data([&](std::string_view b) {
                if (static_cast<std::int64_t>(file.size() + b.size()) > listed->second) {
                    throw refused("content " + sha + " is larger than the manifest says");
                }
                file.append(b);
            });
            if (static_cast<std::int64_t>(file.size()) != listed->second) {
                throw refused("content " + sha + " is shorter than the manifest says");
            }
            if (file.finish() != sha) throw refused("content " + sha + " does not match its sha256");
            // Claimed (row locked, content lock held) before it is placed, as uploads are stored.
            auto claimed = conn.query("uploads/claim_blob", db::Params().add(sha).add(listed->second).null());
            bool new_row = claimed.boolean(0, claimed.column("inserted"));
            if (blobs.adopt(file, sha) && new_row) created.push_back(sha);
            if (new_row) ++summary.blobs_new;
            ++summary.blobs;
        }
        if (!ended) throw refused(std::string("it is truncated: ") + kEnd + " is missing");
        if (stored.size() != manifest.blobs.size()) throw refused("some listed content is missing from it");

        std::vector<std::string> app, sha, media, created_at, last_used, white, prot;
        std::vector<std::int64_t> size, entries, uncompressed;
        std::vector<std::optional<std::string>> expires;
        for (const auto& r : manifest.records) {
            app.push_back(r.app);
            sha.push_back(r.sha256);
            media.push_back(r.media_type);
            created_at.push_back(r.created_at);
            last_used.push_back(r.last_used_at);
            white.push_back(r.whitelisted || r.is_protected ? "true" : "false");
            prot.push_back(r.is_protected ? "true" : "false");
            size.push_back(r.size);
            entries.push_back(r.entries);
            uncompressed.push_back(r.uncompressed_size);
            expires.push_back(r.expires_at);
        }
        db::Result inserted;
        try {
            inserted = conn.query("uploads/import", db::Params()
                                                        .add(app)
                                                        .add(sha)
                                                        .add(size)
                                                        .add(media)
                                                        .add(entries)
                                                        .add(uncompressed)
                                                        .add(created_at)
                                                        .add(last_used)
                                                        .add(white)
                                                        .add(prot)
                                                        .add(expires));
        } catch (const DbError& e) {
            // 22xxx: a time or value the records hold that Postgres refuses.
            if (e.sqlstate().rfind("22", 0) == 0) throw refused(std::string("a record holds a bad value: ") + e.what());
            throw;
        }
        summary.uploads = inserted.rows();
        summary.uploads_skipped = static_cast<std::int64_t>(manifest.records.size()) - summary.uploads;
        // The content locks are still held: nobody can have come to rely on these files.
        conn.exec("COMMIT");
        return summary;
    } catch (...) {
        for (const auto& sha : created) blobs.remove(sha);
        if (!conn.broken()) conn.exec("ROLLBACK");
        throw;
    }
}

}  // namespace drover
