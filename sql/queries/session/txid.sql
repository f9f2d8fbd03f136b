-- session/txid: the current transaction's id (assigning one), asked right
-- after BEGIN so that, should the connection drop during COMMIT, a new
-- connection can ask session/txid_status whether it committed.
SELECT txid_current();
