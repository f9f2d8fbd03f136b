#pragma once
// The few cryptographic primitives Drover needs, from OpenSSL's libcrypto
// rather than written by hand: random bytes from the system's CSPRNG
// (RAND_bytes), SHA-256, and a constant-time comparison (CRYPTO_memcmp).
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace drover::crypto {

// n bytes from RAND_bytes; throws Error if the generator fails.
std::string random_bytes(std::size_t n);
// The 32-byte SHA-256 digest of data.
std::string sha256(std::string_view data);
std::string to_hex(std::string_view bytes);
// Lower-case hex back to bytes; "" when `hex` is not even-length lower-case hex.
std::string from_hex(std::string_view hex);
// Equal length and bytes, in time that depends only on the length.
bool constant_time_equal(std::string_view a, std::string_view b);

// SHA-256 over data that arrives in pieces (upload bodies as they are read,
// files written or read chunk by chunk).
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

// The SHA-256 (hex) of a file's bytes, read through `fd` from its start in
// 1 MiB blocks; throws Error when it cannot be read.
std::string sha256_of_fd(int fd);

}  // namespace drover::crypto
