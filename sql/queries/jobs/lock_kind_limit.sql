-- jobs/lock_kind_limit: first statement of a claim of a limited kind. It
-- locks the kind's limit row until the claim commits, so claims of that kind
-- take turns; the count (jobs/kind_running) runs as a later statement, for
-- the reason given in jobs/lock_queue_limit. No row: the kind is unlimited.
-- $1 kind
SELECT concurrency FROM drover.kind_limits WHERE kind = $1 FOR UPDATE;
