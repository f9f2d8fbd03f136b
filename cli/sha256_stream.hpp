#pragma once
// SHA-256 over data that arrives in pieces (uploads read part by part,
// downloads written chunk by chunk), from OpenSSL's EVP interface.
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace drover::cli {

class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void update(std::string_view data);
    // Lower-case hex; call once.
    std::string hex();

private:
    evp_md_ctx_st* ctx_;
};

// The sha256 (hex) of a file's bytes, read through `fd` from its start.
std::string sha256_of_fd(int fd);

}  // namespace drover::cli
