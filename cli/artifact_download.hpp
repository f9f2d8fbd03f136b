#pragma once
// drover artifacts ID --download DIR (and submit --download): every artifact
// of a job into DIR, each written to a temporary name beside its place,
// checked against the listing's size and sha256, then renamed into place.
// Names are checked before anything is written: a name that is absolute,
// has an empty, "." or ".." component, a backslash, a colon or a NUL refuses
// the whole download. Folders are walked with O_NOFOLLOW, so a symbolic
// link already in DIR cannot lead a file outside it.
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/api_client.hpp"

namespace drover::cli {

// Refused before or during a download; drover exits 6.
class DownloadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Artifact {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;
};

struct Downloaded {
    Artifact artifact;
    std::string action;  // "written", "replaced" or "unchanged" (the same bytes were there)
};

// Why `name` may not be written under a download folder, or "" when it may.
std::string artifact_name_problem(const std::string& name);

// The listing of GET /v1/jobs/{id}/artifacts (a JSON body); throws DownloadError when malformed.
std::vector<Artifact> parse_artifact_list(const std::string& body);

// Downloads every artifact in `list` into `dir` (made when missing). A file
// already there with other bytes is refused unless `overwrite`.
std::vector<Downloaded> download_artifacts(const Target& t, const std::string& job_id,
                                           const std::vector<Artifact>& list, const std::string& dir, bool overwrite);

}  // namespace drover::cli
