#pragma once
// Percent-encoding of one URL path segment or query value (RFC 3986): the
// API's links to artifacts and the CLI's requests build URLs from names and
// ids a user chose.
#include <string>
#include <string_view>

namespace drover {

// Every byte but the unreserved characters (letters, digits, - . _ ~) and
// those in `keep` becomes %XX.
std::string percent_encode(std::string_view s, std::string_view keep = "");

}  // namespace drover
