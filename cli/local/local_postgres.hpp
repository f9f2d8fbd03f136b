#pragma once
// The local PostgreSQL cluster of drover start / ensure / up, in
// $DROVER_STATE_DIR/pg. One implementation: it runs scripts/pg (which
// scripts/run and scripts/test also use), so the cluster is created and
// locked down exactly as the scripts do it.
#include <optional>
#include <string>

#include "cli/local/processes.hpp"

namespace drover::cli {

class LocalPostgres {
public:
    explicit LocalPostgres(std::string dir);

    const std::string& dir() const { return dir_; }
    // The postmaster, when it runs (from data/postmaster.pid).
    std::optional<ProcessRecord> running() const;
    std::string home() const;  // where the cluster lives (see scripts/lib/pg.sh)
    // initdb on first use, start on a free port, create the database
    // "drover"; returns its URL. Throws with the script's stderr on failure.
    std::string start();
    // The URL of database "drover" on the running cluster.
    std::string url() const;
    void stop();

    // scripts/pg: next to the binaries (build/bin/../../scripts/pg), else
    // the source tree this binary was built from.
    static std::string script_path();

private:
    std::string dir_;
};

}  // namespace drover::cli
