#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"

namespace drover::cli {

// drover export FILE [--whitelisted-only]: writes the upload records (all, or
// only whitelisted and protected ones) and their files into one tar archive
// (FILE "-": standard output), straight from the database and the storage
// root, like `drover sweep`; prints {"uploads", "blobs", "bytes"} (on stderr
// when the archive goes to stdout). FILE is written as FILE.partial and
// renamed when complete.
int export_command(const Config& config, const std::vector<std::string>& words);

// drover import FILE: reads such an archive (FILE "-": standard input) and
// imports it all or nothing; prints {"uploads", "uploads_skipped", "blobs",
// "blobs_new"}. A damaged or hostile archive exits 1 with the reason and
// leaves no record and no file.
int import_command(const Config& config, const std::vector<std::string>& words);

}  // namespace drover::cli
