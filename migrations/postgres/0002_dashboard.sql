-- Dashboard sign-in sessions. Only the SHA-256 hash of a session token is stored, so a copy of the
-- database cannot be used to sign in.
CREATE TABLE dashboard_sessions (
    token_hash    BYTEA PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);

-- Delivery stats of one webhook over a recent window (the dashboard's last 24 h).
CREATE INDEX deliveries_by_webhook_created ON deliveries (webhook_id, created_at);
