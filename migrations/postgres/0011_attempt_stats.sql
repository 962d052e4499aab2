-- Rollups of the Request History, kept as attempts are recorded (in the same statement), so
-- GET /api/v1/stats and the Activity charts cost the number of buckets, not of attempts. One row
-- per webhook, span ('m': a UTC minute, 'h': a UTC hour), bucket and outcome (the HTTP status,
-- or the error when no response came). Existing history is counted once, here.
CREATE TABLE attempt_stats (
    webhook_id    TEXT NOT NULL,
    span          TEXT NOT NULL,
    bucket_start  BIGINT NOT NULL,
    outcome       TEXT NOT NULL,
    workspace_id  TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, span, bucket_start, outcome)
);
CREATE INDEX attempt_stats_by_workspace ON attempt_stats (workspace_id, span, bucket_start);

INSERT INTO attempt_stats (webhook_id, span, bucket_start, outcome, workspace_id, attempts)
SELECT webhook_id, s.span, timestamp - timestamp % s.len,
       COALESCE(http_status::TEXT, error, 'unknown'), workspace_id, COUNT(*)
FROM attempts CROSS JOIN (VALUES ('m', 60000), ('h', 3600000)) AS s(span, len)
GROUP BY 1, 2, 3, 4, 5;

-- A window that starts or ends inside a minute counts that part from the attempts themselves:
-- at most a minute of them at each end, found by this index.
CREATE INDEX attempts_by_workspace_time ON attempts (workspace_id, timestamp);
