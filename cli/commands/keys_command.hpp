#pragma once
// drover apps … and drover keys …: apps and API keys, straight in the
// database (DROVER_DATABASE_URL), for the first operator key and for scripts.
// A key made here is printed once, on stdout, alone on its line; only its
// hash is stored.
#include <string>
#include <vector>

#include "core/config.hpp"

namespace drover::cli {

//   drover apps list
//   drover apps create NAME [MAX_UNFINISHED_JOBS]
int apps_command(const Config& config, const std::vector<std::string>& args);
//   drover keys create APP ROLE [NAME]     ROLE: read, submit or admin
//   drover keys create-operator [NAME]     a key for the admin listener
//   drover keys list [APP]                 without APP: the operator keys
//   drover keys revoke ID
int keys_command(const Config& config, const std::vector<std::string>& args);

}  // namespace drover::cli
