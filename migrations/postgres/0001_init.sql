-- SpeakNode Webhooks, PostgreSQL schema: the same tables as the SQLite one. Times are Unix
-- milliseconds (BIGINT); ids are the public prefixed strings; `seq` gives keyset paging order.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX workspaces_one_default ON workspaces (is_default) WHERE is_default;

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_hash      BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE event_types (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    schema       TEXT NOT NULL,
    example      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE webhooks (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    description      TEXT NOT NULL,
    event_types      TEXT NOT NULL, -- JSON array of names
    enabled          BOOLEAN NOT NULL,
    disabled_reason  TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    last_succeeded   BOOLEAN,
    last_attempt_at  BIGINT,
    last_success_at  BIGINT
);
CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, seq);

CREATE TABLE webhook_secrets (
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    PRIMARY KEY (webhook_id, created_at, secret)
);

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    workspace_id    TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL, -- the exact body every delivery sends
    created_at      BIGINT NOT NULL,
    delivery_count  BIGINT NOT NULL,
    is_test         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX events_by_workspace ON events (workspace_id, seq) WHERE NOT is_test;
CREATE INDEX events_by_created ON events (created_at);

CREATE TABLE idempotency_keys (
    workspace_id  TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    event_id      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE deliveries (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    workspace_id     TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- While pending: when the next attempt is due; a claim moves it to the lease's end.
    next_attempt_at  BIGINT,
    next_trigger     TEXT NOT NULL,
    held             BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner      TEXT,
    lease_token      BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending' AND NOT held;
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, state);

CREATE TABLE attempts (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    workspace_id        TEXT NOT NULL,
    webhook_id          TEXT NOT NULL,
    delivery_id         TEXT NOT NULL,
    event_id            TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    attempt             BIGINT NOT NULL,
    trigger             TEXT NOT NULL,
    timestamp           BIGINT NOT NULL,
    http_status         BIGINT,
    error               TEXT,
    succeeded           BOOLEAN NOT NULL,
    duration_ms         BIGINT NOT NULL,
    response            TEXT NOT NULL,
    response_truncated  BOOLEAN NOT NULL,
    next_attempt_at     BIGINT
);
CREATE INDEX attempts_by_webhook ON attempts (webhook_id, seq);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id);
