#include "cli/sha256_stream.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "core/crypto.hpp"

namespace drover::cli {

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("EVP sha256 init failed");
}

Sha256Stream::~Sha256Stream() {
    EVP_MD_CTX_free(ctx_);
}

void Sha256Stream::update(std::string_view data) {
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) throw std::runtime_error("EVP sha256 update failed");
}

std::string Sha256Stream::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &n) != 1) throw std::runtime_error("EVP sha256 final failed");
    return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(digest), n));
}

std::string sha256_of_fd(int fd) {
    Sha256Stream sha;
    std::vector<char> buffer(1 << 16);
    if (::lseek(fd, 0, SEEK_SET) < 0) throw std::runtime_error("cannot read the file");
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) throw std::runtime_error("cannot read the file");
        if (n == 0) break;
        sha.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
    return sha.hex();
}

}  // namespace drover::cli
