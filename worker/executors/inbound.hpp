#pragma once
// A job that names an upload (jobs.upload_id) finds it unpacked in its
// inbound/ folder when its command starts. The zip was checked when it was
// uploaded; it is checked again as it is extracted (core/archive/zip_check:
// same rules, into a temporary folder renamed to inbound/ when complete), so
// a blob changed on disk cannot write outside the folder either. Extraction
// runs in drover-unzip, a helper next to drover-worker: libarchive must not
// be loaded into the worker (worker/CMakeLists.txt). inbound/
// goes with the job's folder when the job ends (JobFolder::clear).
#include <filesystem>
#include <string>

#include "core/archive/zip_check.hpp"
#include "core/db/connection.hpp"
#include "core/store/job_store.hpp"

namespace drover::worker {

struct InboundSettings {
    std::string database_url;
    std::filesystem::path storage_root;
    archive::ZipLimits limits;
    std::int64_t artifact_retention_s = 86400;  // outbound files kept this long (artifacts.hpp)
};

// Once, before jobs run (worker main).
void configure_inbound(InboundSettings settings);

// The settings given to configure_inbound(); throws Error when there were none.
InboundSettings job_files_settings();
// This runner thread's connection for job files (inbound and artifacts),
// made on first use: jobs that use no files cost nothing.
db::Connection& job_files_connection(const std::string& database_url);

// Unpacks the job's upload into `inbound` (an empty folder JobFolder::prepare
// made); nothing for a job without one. Throws on failure (the attempt is
// then retried like any worker error).
void stage_inbound(const ClaimedJob& job, const std::filesystem::path& inbound);

}  // namespace drover::worker
