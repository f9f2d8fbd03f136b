#include "cli/upload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace drover::cli {
namespace {

constexpr long upload_timeout_ms = 10 * 60 * 1000;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string read_exactly(int fd, std::uint64_t n, const std::filesystem::path& path) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, out.data() + got, n - got);
        if (r <= 0) throw ConfigError("cannot read " + path.string() + " (did it change while being sent?)");
        got += static_cast<std::size_t>(r);
    }
    return out;
}

std::string parted(const Target& t, int fd, std::uint64_t size, const std::filesystem::path& zip,
                   const UploadProgress& progress) {
    auto session = json::parse(api_call(t, "POST", "/v1/uploads/sessions", "{}"));
    if (!session.IsObject() || !session.HasMember("id") || !session["id"].IsString()) {
        throw ApiError(0, "POST /v1/uploads/sessions: an answer without an id");
    }
    std::string id = session["id"].GetString();
    std::uint64_t part_bytes = single_request_upload_bytes;
    if (session.HasMember("max_part_bytes") && session["max_part_bytes"].IsUint64() &&
        session["max_part_bytes"].GetUint64() > 0) {
        part_bytes = session["max_part_bytes"].GetUint64();
    }
    crypto::Sha256Stream sha;
    ::lseek(fd, 0, SEEK_SET);
    std::uint64_t sent = 0;
    for (int n = 1; sent < size; ++n) {
        std::string part = read_exactly(fd, std::min(part_bytes, size - sent), zip);
        sha.update(part);
        api_call(t, "PUT", "/v1/uploads/sessions/" + escape(id) + "/parts/" + std::to_string(n), part,
                 upload_timeout_ms, "application/octet-stream");
        sent += part.size();
        if (progress) progress(sent, size);
    }
    return api_call(t, "POST", "/v1/uploads/sessions/" + escape(id) + "/complete",
                    "{\"sha256\": \"" + sha.hex() + "\"}");
}

}  // namespace

std::string upload_zip(const Target& t, const std::filesystem::path& zip, const UploadProgress& progress) {
    Fd f{::open(zip.c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat sb {};
    if (f.fd < 0 || ::fstat(f.fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        throw ConfigError("cannot read " + zip.string() + ": not a readable file");
    }
    auto size = static_cast<std::uint64_t>(sb.st_size);
    if (size <= single_request_upload_bytes) {
        std::string bytes = read_exactly(f.fd, size, zip);
        try {
            std::string body = api_call(t, "POST", "/v1/uploads", bytes, upload_timeout_ms, "application/zip");
            if (progress) progress(size, size);
            return body;
        } catch (const ApiError& e) {
            if (e.status != 413) throw;  // this API takes less in one request: send it in parts
        }
    }
    return parted(t, f.fd, size, zip, progress);
}

}  // namespace drover::cli
