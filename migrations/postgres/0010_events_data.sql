-- The events log's search by what an event's data holds (`GET /api/v1/events?data.<path>=…`):
-- a containment test, `(payload::jsonb -> 'data') @> '{"agent_id": "agent_7"}'`, which this
-- index serves without reading the table. jsonb_path_ops: smaller and faster for @>, the only
-- operator the search uses.
CREATE INDEX events_data ON events USING gin (((payload::jsonb) -> 'data') jsonb_path_ops)
    WHERE NOT is_test;
