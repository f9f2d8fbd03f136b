-- jobs/note_lost_attempts: a line in the log of each job whose attempt this
-- worker ran (or was running) after losing its claim: the lease expired and
-- the rescue put the job back, or the claim itself was lost in a database
-- crash (claims alone commit asynchronously, session/async_commit), in which
-- case the job may run again with the same attempt number. Either way the
-- job's record must show that this run happened. Written without the lease
-- check of jobs/append_logs, on purpose: this worker no longer holds the job.
-- $1 owner, $2 job ids, $3 attempts, $4 what became of the run
INSERT INTO drover.job_logs (job_id, attempt, stream, at, line)
SELECT l.id, l.attempt, 'runner', now(),
       format('[drover] attempt %s ran on worker %s after its claim was lost (lease expired, or the claim '
              'did not survive a database crash); %s', l.attempt, $1::text, l.what)
FROM unnest($2::bigint[], $3::integer[], $4::text[]) AS l(id, attempt, what);
