#pragma once
// The few cryptographic primitives Drover needs, from OpenSSL's libcrypto
// rather than written by hand: random bytes from the system's CSPRNG
// (RAND_bytes), SHA-256, and a constant-time comparison (CRYPTO_memcmp).
#include <string>
#include <string_view>

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

}  // namespace drover::crypto
