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

#include "worker/job_control.hpp"

namespace drover::worker {

// Stores what `outbound` holds for the job of `control`; never throws (a
// failure is written to the job's log: the job's own outcome stands).
void collect_outbound(JobControl& control, const std::filesystem::path& outbound) noexcept;

}  // namespace drover::worker
