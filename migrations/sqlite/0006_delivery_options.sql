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
