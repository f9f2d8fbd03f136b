-- workers/unregister: worker $1 stops; inserts no longer wake it.
DELETE FROM drover.workers WHERE worker_id = $1;
