-- apps/check_room: raises DR429 when the app has more unfinished jobs than
-- its max_unfinished_jobs (drover.check_app_room, the same check as at
-- insert), for changes that make a job unfinished again (jobs/retry).
-- $1 app
SELECT drover.check_app_room($1);
