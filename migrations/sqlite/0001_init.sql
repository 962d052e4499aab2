-- SpeakNode Webhooks, SQLite schema. Times are Unix milliseconds (INTEGER); ids are the public
-- prefixed strings; `seq` columns give a stable order for keyset paging.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX workspaces_one_default ON workspaces (is_default) WHERE is_default = 1;

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_hash      BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);

CREATE TABLE event_types (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    schema       TEXT NOT NULL,
    example      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE webhooks (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    description      TEXT NOT NULL,
    event_types      TEXT NOT NULL, -- JSON array of names
    enabled          INTEGER NOT NULL,
    disabled_reason  TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    last_succeeded   INTEGER,
    last_attempt_at  INTEGER,
    last_success_at  INTEGER
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, seq);

CREATE TABLE webhook_secrets (
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER, -- NULL while it is the current secret
    PRIMARY KEY (webhook_id, created_at, secret)
);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    workspace_id    TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL, -- the exact body every delivery sends
    created_at      INTEGER NOT NULL,
    delivery_count  INTEGER NOT NULL,
    is_test         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_by_workspace ON events (workspace_id, seq) WHERE is_test = 0;
CREATE INDEX events_by_created ON events (created_at);

CREATE TABLE idempotency_keys (
    workspace_id  TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    event_id      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    state            TEXT NOT NULL,   -- pending | succeeded | failed | cancelled
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- While pending: when the next attempt is due. A claim moves it to the lease's end, so an
    -- expired lease makes the delivery due again without any sweeper.
    next_attempt_at  INTEGER,
    next_trigger     TEXT NOT NULL,   -- scheduled | retry | manual | test
    held             INTEGER NOT NULL DEFAULT 0, -- its webhook is disabled: wait
    lease_owner      TEXT,
    lease_token      INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending' AND held = 0;
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, state);

CREATE TABLE attempts (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    workspace_id        TEXT NOT NULL,
    webhook_id          TEXT NOT NULL,
    delivery_id         TEXT NOT NULL,
    event_id            TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    trigger             TEXT NOT NULL,
    timestamp           INTEGER NOT NULL,
    http_status         INTEGER,
    error               TEXT,
    succeeded           INTEGER NOT NULL,
    duration_ms         INTEGER NOT NULL,
    response            TEXT NOT NULL,
    response_truncated  INTEGER NOT NULL,
    next_attempt_at     INTEGER
);
CREATE INDEX attempts_by_webhook ON attempts (webhook_id, seq);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id);
