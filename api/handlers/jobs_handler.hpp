#pragma once
// /v1/jobs: create a job, read one, cancel one, read its log. Handlers
// validate on the reactor thread and throw (InputError, NotFound) before
// handing the response to the database executor; the route adapter answers
// those (router.cpp).
#include <pistache/router.h>

#include "api/db_executor.hpp"
#include "api/long_poll.hpp"
#include "core/kinds.hpp"

namespace drover::api {

class JobsHandler {
public:
    // root_path: DROVER_ROOT_PATH, the prefix of the Location this API answers.
    // long_poll: where ?wait=S requests are parked (none: ?wait is accepted and ignored).
    JobsHandler(DbExecutor& db, const KindRegistry& kinds, std::string root_path = {}, LongPoll* long_poll = nullptr)
        : db_(db), kinds_(kinds), root_path_(std::move(root_path)), long_poll_(long_poll) {}

    // POST /v1/jobs → 202 Accepted + Location (200 when a unique key matched an unfinished job).
    void create(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs/:id[?wait=S] → the job, or 404 (also for another app's job). With wait
    // (1..60 s): as soon as its status, attempt or progress changes from what it was when the
    // request arrived, at once when it is already finished, else after S seconds, unchanged
    // (api/long_poll.hpp).
    void get(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /v1/jobs/:id/cancel → the job (cancelled, or running with cancel_requested_at
    // until its worker stops it); 409 when it already finished.
    void cancel(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs/:id/logs?after=<cursor>&limit=<n>[&wait=S] → a page of log lines and the next
    // cursor. With wait (1..60 s): as soon as there are lines after the cursor or the job is
    // finished, else after S seconds with an empty page (api/long_poll.hpp).
    void logs(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // GET /v1/jobs?status=&kind=&queue=&created_after=&created_before=&limit=&cursor= → a page, newest first.
    void list(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /v1/jobs/:id/retry → a failed or cancelled job pending again; 409 otherwise.
    void retry(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // DELETE /v1/jobs/:id → 204, the job and its log gone; 409 while it is unfinished.
    void remove(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);
    // POST /v1/jobs/batch {"jobs": [...]} → 202 with every job, all inserted or none.
    void create_batch(RequestContext ctx, const Pistache::Rest::Request& request,
                      Pistache::Http::ResponseWriter& response);
    // GET /v1/queues → per queue of the app: counts by status, oldest pending age, concurrency limit.
    void queues(RequestContext ctx, const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter& response);

private:
    DbExecutor& db_;
    const KindRegistry& kinds_;
    std::string root_path_;
    LongPoll* long_poll_;
};

}  // namespace drover::api
