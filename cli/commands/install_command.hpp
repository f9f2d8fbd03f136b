#pragma once
// drover install [--check]: installs what Drover needs and is missing by
// running scripts/install, the same steps scripts/run and scripts/test take
// (ensure_deps in scripts/lib/common.sh): one implementation. Prints its one
// JSON line; --check installs nothing and exits 1 when something is missing.
#include <string>
#include <vector>

namespace drover::cli {

int install_command(const std::vector<std::string>& args);

}  // namespace drover::cli
