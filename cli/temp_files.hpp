#pragma once
// Temporary files the client commands make (a folder's zip for submit
// --file, an artifact's ".part" file while it downloads) must not outlive a
// Ctrl-C or SIGTERM: while one is registered, those signals unlink it and
// then end the process as the signal would have.
#include <string>

namespace drover::cli {

// Registers `path` (absolute or relative to the cwd at the time) until the
// returned guard ends; at most a few at once (further ones are not guarded).
class TempFileGuard {
public:
    explicit TempFileGuard(const std::string& path);
    ~TempFileGuard();
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;

private:
    int slot_ = -1;
};

}  // namespace drover::cli
