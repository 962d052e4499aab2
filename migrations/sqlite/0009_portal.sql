-- Portal links: one-time sign-in links a platform mints for its customers. Only the SHA-256 hash
-- of a link's token is stored, and redeeming it deletes the row, so a link works once; expired
-- rows are dropped whenever a link is minted.
CREATE TABLE portal_links (
    token_hash    BLOB PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    read_only     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX portal_links_by_expiry ON portal_links (expires_at);

-- A read-only session (support staff) sees every page and changes nothing.
ALTER TABLE dashboard_sessions ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
