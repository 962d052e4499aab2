-- A webhook's delivery options (docs/api.md, "Delivery options"): extra headers (a JSON object),
-- a payload filter (a JSON object of dotted path -> accepted values, NULL for none), a rate limit
-- (attempts per second), ordered delivery, a timeout and a retry schedule overriding the
-- settings. A delivery keeps the retry schedule its webhook had when it was created, so a change
-- applies to deliveries created afterwards (NULL: the SPEAKNODE_RETRY_SCHEDULE setting).
ALTER TABLE webhooks ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE webhooks ADD COLUMN filter TEXT;
ALTER TABLE webhooks ADD COLUMN rate_limit INTEGER;
ALTER TABLE webhooks ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN timeout_ms INTEGER;
ALTER TABLE webhooks ADD COLUMN retry_schedule TEXT;
ALTER TABLE deliveries ADD COLUMN retry_schedule TEXT;
-- A rate-limited webhook counts the attempts it started in the current second (a window of 1000
-- ms starting at rate_window_start), so every process sharing the database respects the limit.
ALTER TABLE webhooks ADD COLUMN rate_window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN rate_window_count INTEGER NOT NULL DEFAULT 0;
-- The webhooks a claim must treat one by one (ordered or rate-limited): usually none.
CREATE INDEX webhooks_restricted ON webhooks (id) WHERE ordered = 1 OR rate_limit IS NOT NULL;
