#pragma once
// Outbound artifacts: the regular files a command job left in its outbound/
// folder are stored content-addressed under the storage root and recorded
// (drover.artifacts: job, path in outbound/, size, sha256), before the
// folder is emptied. Symlinks, devices and anything but regular files are
// skipped (and said so in the job's log), as are names the zip rules would
// refuse. Each file: copied into a temp file while hashed, then in one
// transaction its blob row claimed, the file renamed into place and the
// record written.
#include <filesystem>
#include <optional>
#include <string>

#include "worker/job_control.hpp"

namespace drover::worker {

// Stores what `outbound` holds for the job of `control`; never throws (a
// failure is written to the job's log: the job's own outcome stands).
// Returns the contents of outbound/result.json when it is a JSON document
// Postgres can store (at most 1 MiB): the job's result if it sent none over
// its control channel. result.json is stored as an artifact too.
// retention_s: the kind's artifact_retention_s (none: DROVER_ARTIFACT_RETENTION_S).
std::optional<std::string> collect_outbound(JobControl& control, const std::filesystem::path& outbound,
                                            std::optional<int> retention_s = std::nullopt) noexcept;

}  // namespace drover::worker
