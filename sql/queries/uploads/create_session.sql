-- uploads/create_session: a parted upload of one app, open for $2 seconds.
-- $1 app, $2 ttl seconds, $3 now (NULL: now())
INSERT INTO drover.upload_sessions (app, created_at, expires_at)
VALUES ($1, coalesce($3::timestamptz, now()), coalesce($3::timestamptz, now()) + make_interval(secs => $2::bigint))
RETURNING id, app, created_at, expires_at;
