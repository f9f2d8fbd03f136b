#pragma once
// The admin listener's storage routes (operator keys only, see router.cpp):
// whitelist and protect uploads, an upload's full record, storage figures,
// and running a sweep now.
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "core/sweeps/storage_sweeps.hpp"

namespace drover::api {

class StorageAdminHandler {
public:
    StorageAdminHandler(DbExecutor& db, StorageSweepSettings settings) : db_(db), settings_(std::move(settings)) {}

    // POST/DELETE /maintenance/uploads/:id/whitelist → the record; DELETE on a protected upload → 409.
    void whitelist(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void unwhitelist(RequestContext ctx, const Pistache::Rest::Request& request,
                     Pistache::Http::ResponseWriter& response);
    // POST/DELETE /maintenance/uploads/:id/protect: protected implies whitelisted (DELETE keeps the whitelist).
    void protect(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    void unprotect(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /maintenance/uploads/:id → the full record (any app), with its unfinished jobs.
    void get_upload(RequestContext ctx, const Pistache::Rest::Request& request,
                    Pistache::Http::ResponseWriter& response);
    // GET /maintenance/storage → used bytes, limits, counts, the deletion queue.
    void storage(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /maintenance/sweeps/:name/run[?dry_run=true] → {"name", "dry_run", "ran", "records", "blobs", "files_deleted"}.
    void run_sweep(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    void set_flags(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response,
                   std::optional<bool> whitelisted, std::optional<bool> is_protected);

    DbExecutor& db_;
    StorageSweepSettings settings_;
};

}  // namespace drover::api
