#include "worker/executors/artifacts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/archive/zip_check.hpp"
#include "core/json.hpp"
#include "core/storable.hpp"
#include "core/error.hpp"
#include "core/storage/blob_store.hpp"
#include "worker/executors/inbound.hpp"

namespace drover::worker {
namespace {

constexpr std::size_t max_artifacts = 1000;

std::string media_type_of(const std::filesystem::path& name) {
    static const std::pair<const char*, const char*> known[] = {
        {".json", "application/json"}, {".txt", "text/plain; charset=utf-8"}, {".log", "text/plain; charset=utf-8"},
        {".csv", "text/csv"},          {".html", "text/html"},                {".zip", "application/zip"},
        {".png", "image/png"},         {".jpg", "image/jpeg"},                {".pdf", "application/pdf"},
        {".gz", "application/gzip"},   {".tar", "application/x-tar"}};
    auto ext = name.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [e, type] : known) {
        if (ext == e) return type;
    }
    return "application/octet-stream";
}

// Copies the file into a finished temp file (O_NOFOLLOW: a file swapped for a
// symlink after the walk is not followed).
void copy_into(const std::filesystem::path& path, storage::TempFile& temp) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
    std::string buffer(1 << 20, '\0');
    for (;;) {
        auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            throw Error("cannot read " + path.string() + ": " + std::strerror(e));
        }
        if (n == 0) break;
        temp.append(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
    ::close(fd);
}

constexpr std::size_t max_result_json = 1 << 20;

// outbound/result.json as a job result, when it is one Postgres can store.
std::optional<std::string> result_from(JobControl& control, const std::filesystem::path& outbound) {
    auto path = outbound / "result.json";
    std::error_code ec;
    auto status = std::filesystem::symlink_status(path, ec);
    if (ec || !std::filesystem::is_regular_file(status)) return std::nullopt;
    if (std::filesystem::file_size(path, ec) > max_result_json || ec) {
        control.log("runner", "outbound/result.json is over 1 MiB: not taken as the result");
        return std::nullopt;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text(max_result_json + 1, '\0');
    auto n = ::read(fd, text.data(), text.size());
    ::close(fd);
    if (n < 0) return std::nullopt;
    text.resize(static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError()) {
        control.log("runner", "outbound/result.json is not valid JSON: not taken as the result");
        return std::nullopt;
    }
    if (auto why = jsonb_refusal(text)) {
        control.log("runner", "outbound/result.json cannot be stored (" + *why + "): not taken as the result");
        return std::nullopt;
    }
    return text;
}

}  // namespace

std::optional<std::string> collect_outbound(JobControl& control, const std::filesystem::path& outbound,
                                            std::optional<int> retention_s) noexcept {
    std::optional<std::string> result;
    try {
        std::error_code ec;
        // symlink_status: an outbound/ the job replaced by a link (to /etc, say) is not followed.
        if (!std::filesystem::is_directory(std::filesystem::symlink_status(outbound, ec)) ||
            std::filesystem::is_empty(outbound, ec)) {
            return result;
        }
        result = result_from(control, outbound);
        auto settings = job_files_settings();
        storage::BlobStore blobs(settings.storage_root);
        auto& conn = job_files_connection(settings.database_url);
        const auto& job = control.job();
        std::size_t stored = 0;
        for (auto it = std::filesystem::recursive_directory_iterator(outbound, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            auto status = it->symlink_status();
            if (std::filesystem::is_directory(status)) continue;  // not followed if a symlink: that is not a dir
            auto name = std::filesystem::relative(it->path(), outbound).generic_string();
            if (!std::filesystem::is_regular_file(status)) {
                control.log("runner", "outbound/" + name + " is not a regular file: not stored");
                continue;
            }
            if (auto why = archive::unsafe_name_reason(name); !why.empty()) {
                control.log("runner", "outbound file not stored (" + why + ")");
                continue;
            }
            if (stored == max_artifacts) {
                control.log("runner", "more than " + std::to_string(max_artifacts) + " outbound files: the rest not stored");
                break;
            }
            storage::TempFile temp(blobs.temp_dir());
            copy_into(it->path(), temp);
            auto sha256 = temp.finish();
            auto size = static_cast<std::int64_t>(temp.size());
            db::in_transaction(conn, [&] {
                auto claimed = conn.query("uploads/claim_blob", db::Params().add(sha256).add(size).null());
                const bool new_row = claimed.boolean(0, claimed.column("inserted"));
                bool created = blobs.adopt(temp, sha256);
                try {
                    conn.query("artifacts/record", db::Params()
                                                       .add(job.id)
                                                       .add(job.attempt)
                                                       .add(name)
                                                       .add(sha256)
                                                       .add(size)
                                                       .add(media_type_of(name))
                                                       .add(retention_s ? static_cast<std::int64_t>(*retention_s)
                                                                        : settings.artifact_retention_s)
                                                       .null());
                } catch (...) {
                    if (created && new_row) blobs.remove(sha256);  // still under the blob row's lock
                    throw;
                }
            });
            ++stored;
        }
        if (stored > 0) control.log("runner", "stored " + std::to_string(stored) + " outbound file(s) as artifacts");
    } catch (const std::exception& e) {
        control.log("runner", std::string("outbound files not stored: ") + e.what());
    }
    return result;
}

}  // namespace drover::worker
