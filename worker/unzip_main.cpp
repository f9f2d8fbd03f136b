// drover-unzip ZIP DESTINATION MAX_ENTRIES MAX_UNCOMPRESSED_BYTES
// Extracts an upload for drover-worker (worker/executors/inbound.cpp) with
// core/archive/zip_check: the worker itself must not load libarchive, whose
// dependencies (libxml2, ICU) bring in the shared libstdc++ next to the
// worker's static one (worker/CMakeLists.txt). Exit 0: extracted; 3: the zip
// was refused (stderr: "<code>: <message>"); 1: anything else; 2: usage.
#include <sys/stat.h>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>

#include "core/archive/zip_check.hpp"

int main(int argc, char** argv) {
    using namespace drover;
    auto number = [](const char* s, std::uint64_t& out) {
        std::string_view v(s);
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        return ec == std::errc() && ptr == v.data() + v.size();
    };
    archive::ZipLimits limits;
    if (argc != 5 || !number(argv[3], limits.max_entries) || !number(argv[4], limits.max_uncompressed_bytes)) {
        std::cerr << "usage: drover-unzip ZIP DESTINATION MAX_ENTRIES MAX_UNCOMPRESSED_BYTES\n";
        return 2;
    }
    // The job's user, not the worker's, reads what is unpacked: a worker
    // started with umask 077 (drover start/up keep their files private)
    // would leave folders it cannot enter. The job folder above is 0700 and
    // reached only through the sandbox, so this opens nothing to others.
    ::umask(022);
    try {
        archive::extract_zip(argv[1], argv[2], limits);
        return 0;
    } catch (const archive::ZipRejected& e) {
        std::cerr << e.code() << ": " << e.what() << "\n";
        return 3;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
