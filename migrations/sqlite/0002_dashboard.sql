-- Dashboard sign-in sessions. Only the SHA-256 hash of a session token is stored, so a copy of the
-- database cannot be used to sign in. The CSRF token is the synchronizer token of the session's
-- forms: useless without the session cookie, so it is kept as it is.
CREATE TABLE dashboard_sessions (
    token_hash    BLOB PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);

-- Delivery stats of one webhook over a recent window (the dashboard's last 24 h).
CREATE INDEX deliveries_by_webhook_created ON deliveries (webhook_id, created_at);
