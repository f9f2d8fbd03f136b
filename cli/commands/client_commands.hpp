#pragma once
// drover submit | jobs | show | logs | cancel | retry: a client of the REST
// API over HTTP (libcurl). The URL and key come from --url / --api-key, then
// DROVER_URL / DROVER_API_KEY, then the state file of a local drover start
// or up. Human output by default; --json prints the API's answer as one line.
//
// TODO (waits for the files work: uploads and artifacts): submit --file
// DIR|ZIP, show --download, drover artifacts.
#include <string>
#include <vector>

namespace drover::cli {

// Exit codes of drover submit --wait: the job's outcome.
constexpr int exit_job_failed = 1;
constexpr int exit_job_cancelled = 4;

bool is_client_command(const std::string& command);
// args: everything after the command name.
int client_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace drover::cli
