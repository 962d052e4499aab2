-- Retention prunes old events with their deliveries and attempts, in small batches.
CREATE INDEX attempts_by_event ON attempts (event_id);
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
