-- Storage for days of traffic (issue 23).
--
-- 1. The queue apart from the history. `pending_deliveries` holds only the deliveries still to
--    be made, with the indexes the claim needs; it stays as small as the backlog. A delivery that
--    ends (succeeded, failed, cancelled) leaves it and is written once into `finished_deliveries`,
--    which has only the indexes the pages read. The view `deliveries` reads both as before, so
--    every read of a delivery sees the one row it has, wherever it is; writes name the tables
--    (the view refuses them).
-- 2. The history partitioned by time: `events` (by `created_at`), `attempts` (by `timestamp`)
--    and `finished_deliveries` (by `created_at`) are range-partitioned, and retention drops whole
--    partitions (store/postgres/partitions.rs) instead of deleting rows, so neither the disk nor
--    the latency depends on vacuum. There is no DEFAULT partition: the service creates them
--    ahead of time, and one for any row that finds none.
--
-- The tables as they were become each parent's first partition, covering everything up to now
-- (or the newest row, if later): no row is copied. It is dropped whole once its newest row has
-- passed the retention period; new rows go to partitions the service makes. What this costs on
-- a large database (the new unique indexes are built over the old rows) is in
-- docs/operating.md.
CREATE FUNCTION pg_temp.history_end() RETURNS BIGINT LANGUAGE sql AS $$
    SELECT GREATEST(
        (extract(epoch FROM now()) * 1000)::BIGINT,
        (SELECT COALESCE(MAX(created_at), 0) FROM events),
        (SELECT COALESCE(MAX(timestamp), 0) FROM attempts),
        (SELECT COALESCE(MAX(created_at), 0) FROM deliveries)
    ) + 1
$$;
CREATE TEMPORARY TABLE history_bound AS SELECT pg_temp.history_end() AS b;

-- 1. The queue.
CREATE SEQUENCE delivery_seq;
SELECT setval('delivery_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM deliveries), false);

CREATE TABLE pending_deliveries (
    seq               BIGINT PRIMARY KEY DEFAULT nextval('delivery_seq'),
    id                TEXT NOT NULL UNIQUE,
    workspace_id      TEXT NOT NULL,
    webhook_id        TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    -- Which of the events' partitions this delivery needs: retention keeps it.
    event_created_at  BIGINT NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    -- When the next attempt is due; a claim moves it to the lease's end, so an expired lease
    -- makes the delivery due again without any sweeper.
    next_attempt_at   BIGINT,
    next_trigger      TEXT NOT NULL,
    held              BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner       TEXT,
    lease_token       BIGINT NOT NULL DEFAULT 0,
    retry_schedule    TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
INSERT INTO pending_deliveries (seq, id, workspace_id, webhook_id, event_id, event_created_at,
    attempts, next_attempt_at, next_trigger, held, lease_owner, lease_token, retry_schedule,
    created_at, updated_at)
SELECT d.seq, d.id, d.workspace_id, d.webhook_id, d.event_id, COALESCE(e.created_at, d.created_at),
    d.attempts, d.next_attempt_at, d.next_trigger, d.held, d.lease_owner, d.lease_token,
    d.retry_schedule, d.created_at, d.updated_at
FROM deliveries d LEFT JOIN events e ON e.id = d.event_id
WHERE d.state = 'pending';
DELETE FROM deliveries WHERE state = 'pending';
-- The claim: the first look in due order, and each webhook's oldest due (fair claiming).
CREATE INDEX pending_due ON pending_deliveries (next_attempt_at) WHERE NOT held;
CREATE INDEX pending_due_by_webhook ON pending_deliveries (webhook_id, next_attempt_at)
    WHERE NOT held AND next_attempt_at IS NOT NULL;
-- An event's deliveries (its page, replays, the events log's state filter).
CREATE INDEX pending_by_event ON pending_deliveries (event_id);
-- A webhook's: held and released with it, cancelled when it is deleted, counted on its page.
CREATE INDEX pending_by_webhook ON pending_deliveries (webhook_id);

-- 2. The finished deliveries: the old table, without the queue's columns and indexes.
ALTER TABLE deliveries RENAME TO finished_deliveries_legacy;
DROP INDEX deliveries_due;
DROP INDEX deliveries_due_by_webhook;
DROP INDEX deliveries_by_webhook;
ALTER INDEX deliveries_by_event RENAME TO finished_deliveries_legacy_by_event;
ALTER INDEX deliveries_failed_by_webhook RENAME TO finished_deliveries_legacy_failed;
ALTER TABLE finished_deliveries_legacy DROP CONSTRAINT deliveries_pkey;
ALTER TABLE finished_deliveries_legacy DROP CONSTRAINT deliveries_id_key;
ALTER TABLE finished_deliveries_legacy ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE finished_deliveries_legacy DROP COLUMN next_attempt_at, DROP COLUMN next_trigger,
    DROP COLUMN held, DROP COLUMN lease_owner;

CREATE TABLE finished_deliveries (
    -- A delivery keeps the `seq` it had in the queue.
    seq             BIGINT NOT NULL DEFAULT nextval('delivery_seq'),
    id              TEXT NOT NULL,
    workspace_id    TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    state           TEXT NOT NULL, -- succeeded | failed | cancelled
    attempts        BIGINT NOT NULL,
    lease_token     BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    retry_schedule  TEXT
) PARTITION BY RANGE (created_at);
DO $$ BEGIN
    EXECUTE format('ALTER TABLE finished_deliveries ATTACH PARTITION finished_deliveries_legacy
        FOR VALUES FROM (MINVALUE) TO (%s)', (SELECT b FROM history_bound));
END $$;
ALTER TABLE finished_deliveries ADD CONSTRAINT finished_deliveries_id UNIQUE (id, created_at);
CREATE INDEX finished_by_event ON finished_deliveries (event_id);
-- Requeueing a webhook's failed deliveries since a time.
CREATE INDEX finished_failed ON finished_deliveries (webhook_id, created_at) WHERE state = 'failed';

CREATE VIEW deliveries AS
    SELECT seq, id, workspace_id, webhook_id, event_id, 'pending'::TEXT AS state, attempts,
        next_attempt_at, next_trigger, held, lease_owner, lease_token, retry_schedule, created_at,
        updated_at
    FROM pending_deliveries
    UNION ALL
    SELECT seq, id, workspace_id, webhook_id, event_id, state, attempts, NULL::BIGINT,
        'scheduled'::TEXT, FALSE, NULL::TEXT, lease_token, retry_schedule, created_at, updated_at
    FROM finished_deliveries;

-- 3. Events.
ALTER TABLE events RENAME TO events_legacy;
ALTER INDEX events_by_workspace RENAME TO events_legacy_by_workspace;
ALTER INDEX events_by_created RENAME TO events_legacy_by_created;
ALTER INDEX events_data RENAME TO events_legacy_data;
ALTER TABLE events_legacy DROP CONSTRAINT events_pkey;
ALTER TABLE events_legacy DROP CONSTRAINT events_id_key;
ALTER TABLE events_legacy ALTER COLUMN seq DROP IDENTITY;

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY,
    id              TEXT NOT NULL,
    workspace_id    TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL, -- the exact body every delivery sends
    created_at      BIGINT NOT NULL,
    delivery_count  BIGINT NOT NULL,
    is_test         BOOLEAN NOT NULL DEFAULT FALSE,
    traceparent     TEXT
) PARTITION BY RANGE (created_at);
SELECT setval(pg_get_serial_sequence('events', 'seq'),
    (SELECT COALESCE(MAX(seq), 0) + 1 FROM events_legacy), false);
DO $$ BEGIN
    EXECUTE format('ALTER TABLE events ATTACH PARTITION events_legacy
        FOR VALUES FROM (MINVALUE) TO (%s)', (SELECT b FROM history_bound));
END $$;
ALTER TABLE events ADD PRIMARY KEY (seq, created_at);
ALTER TABLE events ADD CONSTRAINT events_id UNIQUE (id, created_at);
CREATE INDEX events_by_workspace ON events (workspace_id, seq) WHERE NOT is_test;
CREATE INDEX events_by_created ON events (created_at);
CREATE INDEX events_data ON events
    USING gin ((replace(payload, '\u0000', '\ufffd')::jsonb -> 'data') jsonb_path_ops)
    WHERE NOT is_test;

-- 4. Attempts. Retention no longer deletes them by event, so that index goes.
ALTER TABLE attempts RENAME TO attempts_legacy;
ALTER INDEX attempts_by_webhook RENAME TO attempts_legacy_by_webhook;
ALTER INDEX attempts_by_delivery RENAME TO attempts_legacy_by_delivery;
ALTER INDEX attempts_by_workspace_time RENAME TO attempts_legacy_by_workspace_time;
DROP INDEX attempts_by_event;
ALTER TABLE attempts_legacy DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts_legacy DROP CONSTRAINT attempts_id_key;
ALTER TABLE attempts_legacy ALTER COLUMN seq DROP IDENTITY;

CREATE TABLE attempts (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY,
    id                  TEXT NOT NULL,
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
) PARTITION BY RANGE (timestamp);
SELECT setval(pg_get_serial_sequence('attempts', 'seq'),
    (SELECT COALESCE(MAX(seq), 0) + 1 FROM attempts_legacy), false);
DO $$ BEGIN
    EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_legacy
        FOR VALUES FROM (MINVALUE) TO (%s)', (SELECT b FROM history_bound));
END $$;
ALTER TABLE attempts ADD PRIMARY KEY (seq, timestamp);
-- A record retried after an error in its commit carries the same id and time: refused.
ALTER TABLE attempts ADD CONSTRAINT attempts_id UNIQUE (id, timestamp);
CREATE INDEX attempts_by_webhook ON attempts (webhook_id, seq);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id);
CREATE INDEX attempts_by_workspace_time ON attempts (workspace_id, timestamp);

DROP TABLE history_bound;
