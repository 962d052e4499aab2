-- When the webhook was disabled (by a user or by the service), for the dashboard's banner; NULL
-- while it is enabled. Webhooks already disabled take their last change as the best known time.
ALTER TABLE webhooks ADD COLUMN disabled_at BIGINT;
UPDATE webhooks SET disabled_at = updated_at WHERE NOT enabled;
