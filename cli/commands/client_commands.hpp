#pragma once
// drover submit | jobs | show | logs | cancel | retry | artifacts: a client
// of the REST API over HTTP (libcurl). The URL and key come from --url /
// --api-key, then DROVER_URL / DROVER_API_KEY, then the state file of a
// local drover start or up. Human output by default; --json prints the
// API's answers as JSON lines on stdout (and nothing else there).
#include <string>
#include <vector>

namespace drover::cli {

// Exit codes of the client commands (drover submit --wait: the job's outcome).
constexpr int exit_job_failed = 1;
constexpr int exit_usage = 2;        // a usage error, or the API refused the request (4xx/5xx)
constexpr int exit_unreachable = 3;  // no HTTP answer from the API
constexpr int exit_job_cancelled = 4;
constexpr int exit_wait_timeout = 5;  // --timeout passed before the job finished (it goes on)
constexpr int exit_download = 6;      // artifacts not downloaded: a refused name, a checksum, a file in the way

bool is_client_command(const std::string& command);
// args: everything after the command name.
int client_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace drover::cli
