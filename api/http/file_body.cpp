#include "api/http/file_body.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/error.hpp"

namespace drover::api::http {

namespace {

class Fd {
public:
    explicit Fd(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        if (fd_ < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

class FileBody : public BodySource {
public:
    FileBody(const std::filesystem::path& path, std::int64_t first, std::int64_t count)
        : path_(path), fd_(path), offset_(first), left_(count) {}

    bool next(std::string& chunk) override {
        if (left_ <= 0) return false;
        chunk.resize(static_cast<std::size_t>(std::min<std::int64_t>(left_, kStreamChunk)));
        ssize_t n;
        do {
            n = ::pread(fd_.get(), chunk.data(), chunk.size(), offset_);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) throw Error("the file " + path_.string() + " is shorter than its record");
        chunk.resize(static_cast<std::size_t>(n));
        offset_ += n;
        left_ -= n;
        return true;
    }

private:
    std::filesystem::path path_;
    Fd fd_;
    std::int64_t offset_;
    std::int64_t left_;
};

class ZipBody : public BodySource {
public:
    explicit ZipBody(std::vector<ZipMember> members) : members_(std::move(members)), zip_(archive_write_new()) {
        if (!zip_) throw Error("archive_write_new failed");
        archive_write_set_format_zip(zip_);
        archive_write_set_options(zip_, "zip:compression=store");
        archive_write_set_bytes_per_block(zip_, 0);  // hand every byte to write_cb as it comes: no padding
        if (archive_write_open(zip_, this, nullptr, &ZipBody::write_cb, nullptr) != ARCHIVE_OK)
            throw Error(std::string("cannot start the zip: ") + archive_error_string(zip_));
    }
    ~ZipBody() override {
        ::close(fd_);
        archive_write_free(zip_);  // closes it first when it was not closed
    }

    bool next(std::string& chunk) override {
        while (out_.size() < kStreamChunk && !done_) step();
        if (out_.empty()) return false;
        chunk.swap(out_);
        out_.clear();
        return true;
    }

private:
    static la_ssize_t write_cb(struct archive*, void* self, const void* buffer, size_t length) {
        static_cast<ZipBody*>(self)->out_.append(static_cast<const char*>(buffer), length);
        return static_cast<la_ssize_t>(length);
    }

    void check(int rc) {
        if (rc < ARCHIVE_WARN) throw Error(std::string("zip: ") + archive_error_string(zip_));
    }

    void step() {
        if (fd_ < 0) {
            if (index_ == members_.size()) {
                check(archive_write_close(zip_));
                done_ = true;
                return;
            }
            const auto& m = members_[index_];
            fd_ = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0) throw Error("cannot open " + m.path.string() + ": " + std::strerror(errno));
            written_ = 0;
            auto* entry = archive_entry_new();
            archive_entry_set_pathname_utf8(entry, m.name.c_str());
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, 0644);
            archive_entry_set_size(entry, m.size);
            archive_entry_set_mtime(entry, std::time(nullptr), 0);
            int rc = archive_write_header(zip_, entry);
            archive_entry_free(entry);
            check(rc);
            return;
        }
        const auto& m = members_[index_];
        buffer_.resize(kStreamChunk);
        ssize_t n;
        do {
            n = ::read(fd_, buffer_.data(), buffer_.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) throw Error("cannot read " + m.path.string() + ": " + std::strerror(errno));
        if (n == 0 || written_ + n > m.size) {
            if (written_ != m.size || n != 0) throw Error("the file " + m.path.string() + " does not match its record");
            check(archive_write_finish_entry(zip_));
            ::close(fd_);
            fd_ = -1;
            ++index_;
            return;
        }
        if (archive_write_data(zip_, buffer_.data(), static_cast<size_t>(n)) != n)
            throw Error(std::string("zip: ") + archive_error_string(zip_));
        written_ += n;
    }

    std::vector<ZipMember> members_;
    struct archive* zip_;
    std::size_t index_ = 0;
    int fd_ = -1;
    std::int64_t written_ = 0;
    bool done_ = false;
    std::string out_;
    std::string buffer_;
};

}  // namespace

std::shared_ptr<BodySource> file_body(const std::filesystem::path& path, std::int64_t first, std::int64_t count) {
    return std::make_shared<FileBody>(path, first, count);
}

std::shared_ptr<BodySource> zip_body(std::vector<ZipMember> members) {
    return std::make_shared<ZipBody>(std::move(members));
}

}  // namespace drover::api::http
