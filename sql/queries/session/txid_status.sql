-- session/txid_status: 'committed', 'aborted' or 'in progress' for a recent
-- transaction id from session/txid; NULL when it is too old to tell.
SELECT txid_status($1::bigint);
