#include "cli/artifact_download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/temp_files.hpp"
#include "core/archive/zip_names.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"

namespace drover::cli {
namespace {

constexpr long download_timeout_ms = 30 * 60 * 1000;

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd, o.fd);
        return *this;
    }
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string errno_text() {
    return std::strerror(errno);
}

std::vector<std::string> components(const std::string& name) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto slash = name.find('/', start);
        out.push_back(name.substr(start, slash - start));
        if (slash == std::string::npos) return out;
        start = slash + 1;
    }
}

// The folder that holds `name`'s last component, made as needed, never through a link.
Fd open_parent(int root, const std::vector<std::string>& parts, const std::string& name) {
    Fd dir(::dup(root));
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (::mkdirat(dir.fd, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
            throw DownloadError(name + ": cannot make folder " + parts[i] + ": " + errno_text());
        }
        Fd next(::openat(dir.fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.fd < 0) {
            throw DownloadError(name + ": " + parts[i] + " in the download folder is a link or not a folder");
        }
        dir = std::move(next);
    }
    return dir;
}

Downloaded download_one(const Target& t, const std::string& job_id, const Artifact& a, int root, bool overwrite,
                        const std::string& root_path) {
    auto parts = components(a.name);
    Fd dir = open_parent(root, parts, a.name);
    const std::string& base = parts.back();
    std::string action = "written";
    struct stat sb {};
    if (::fstatat(dir.fd, base.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(sb.st_mode))
            throw DownloadError(a.name + ": already in the download folder and not a regular file");
        Fd existing(::openat(dir.fd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (existing.fd >= 0 && static_cast<std::uint64_t>(sb.st_size) == a.size &&
            crypto::sha256_of_fd(existing.fd) == a.sha256) {
            return {a, "unchanged"};
        }
        if (!overwrite) {
            throw DownloadError(a.name +
                                ": a different file of that name is already in the download folder "
                                "(--overwrite replaces it)");
        }
        action = "replaced";
    }
    std::string temp = "." + base + ".drover-" + crypto::to_hex(crypto::random_bytes(6)) + ".part";
    // By path, for a Ctrl-C: the folders on the way were just opened without
    // following links. Guarded before it exists, so that no signal finds it
    // made and not yet guarded (the random name is ours alone).
    auto slash = a.name.rfind('/');
    TempFileGuard guard(root_path + "/" + (slash == std::string::npos ? "" : a.name.substr(0, slash + 1)) + temp);
    Fd out(::openat(dir.fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (out.fd < 0) throw DownloadError(a.name + ": cannot write in the download folder: " + errno_text());
    auto remove_temp = [&] { ::unlinkat(dir.fd, temp.c_str(), 0); };
    try {
        crypto::Sha256Stream sha;
        std::uint64_t got = 0;
        bool write_failed = false, too_long = false;
        HttpRequest request;
        request.url = t.url + "/v1/jobs/" + escape(job_id) + "/artifacts/" + escape(a.name);
        request.bearer = t.key;
        request.timeout_ms = download_timeout_ms;
        request.sink = [&](std::string_view chunk) {
            got += chunk.size();
            if (got > a.size) return !(too_long = true);
            sha.update(chunk);
            for (std::size_t done = 0; done < chunk.size();) {
                ssize_t n = ::write(out.fd, chunk.data() + done, chunk.size() - done);
                if (n <= 0) return !(write_failed = true);
                done += static_cast<std::size_t>(n);
            }
            return true;
        };
        auto r = http_send(request);
        if (write_failed) throw DownloadError(a.name + ": cannot write in the download folder: " + errno_text());
        if (too_long) throw DownloadError(a.name + ": the download is longer than the listed size");
        expect_success(r, "GET /v1/jobs/" + job_id + "/artifacts/" + a.name);
        if (got != a.size) {
            throw DownloadError(a.name + ": " + std::to_string(got) + " bytes downloaded, " + std::to_string(a.size) +
                                " listed");
        }
        if (std::string sum = sha.hex(); sum != a.sha256) {
            throw DownloadError(a.name + ": sha256 " + sum + " does not match the listing's " + a.sha256);
        }
        if (::fsync(out.fd) != 0) throw DownloadError(a.name + ": fsync: " + errno_text());
        if (::renameat(dir.fd, temp.c_str(), dir.fd, base.c_str()) != 0) {
            throw DownloadError(a.name + ": cannot rename into place: " + errno_text());
        }
    } catch (...) {
        remove_temp();
        throw;
    }
    return {a, action};
}

}  // namespace

std::string artifact_name_problem(const std::string& name) {
    if (name.size() > 4096) return "a name longer than 4096 bytes";
    if (!name.empty() && name.back() == '/') return "a name that ends in '/'";
    return archive::name_reason(name, false);
}

std::vector<Artifact> parse_artifact_list(const std::string& body) {
    auto doc = json::parse(body);
    if (!doc.IsObject() || !doc.HasMember("artifacts") || !doc["artifacts"].IsArray()) {
        throw DownloadError("the artifact listing has no \"artifacts\" array");
    }
    std::vector<Artifact> out;
    for (const auto& v : doc["artifacts"].GetArray()) {
        if (!v.IsObject() || !v.HasMember("name") || !v["name"].IsString() || !v.HasMember("size") ||
            !v["size"].IsUint64() || !v.HasMember("sha256") || !v["sha256"].IsString()) {
            throw DownloadError("an artifact in the listing lacks its name, size or sha256");
        }
        out.push_back({std::string(v["name"].GetString(), v["name"].GetStringLength()), v["size"].GetUint64(),
                       v["sha256"].GetString()});
    }
    return out;
}

std::vector<Downloaded> download_artifacts(const Target& t, const std::string& job_id,
                                           const std::vector<Artifact>& list, const std::string& dir, bool overwrite) {
    // Every name first: a listing with one bad name writes nothing.
    for (const auto& a : list) {
        if (auto problem = artifact_name_problem(a.name); !problem.empty()) {
            throw DownloadError("refusing artifact name '" + a.name + "': " + problem + " (it would not stay inside " +
                                dir + ")");
        }
        if (a.sha256.size() != 64) throw DownloadError(a.name + ": the listing's sha256 is not 64 hex digits");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.fd < 0) throw DownloadError("cannot open the download folder " + dir + ": " + errno_text());
    std::vector<Downloaded> done;
    for (const auto& a : list) done.push_back(download_one(t, job_id, a, root.fd, overwrite, dir));
    return done;
}

}  // namespace drover::cli
