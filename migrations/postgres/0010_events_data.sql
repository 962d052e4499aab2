-- The events log's search by what an event's data holds (`GET /api/v1/events?data.<path>=…`):
-- a containment test, `… -> 'data' @> '{"agent_id": "agent_7"}'`, which this index serves
-- without reading the table. jsonb_path_ops: smaller and faster for @>, the only operator the
-- search uses. jsonb cannot hold U+0000, which event data may (as the JSON escape \u0000, kept
-- as sent in the text payload), so the indexed expression reads it as U+FFFD: the search never
-- looks for NUL (query values refuse it), and an insert never fails on it.
CREATE INDEX events_data ON events
    USING gin ((replace(payload, '\u0000', '\ufffd')::jsonb -> 'data') jsonb_path_ops)
    WHERE NOT is_test;
