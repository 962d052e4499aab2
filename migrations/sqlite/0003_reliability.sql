-- When the current run of failures began (NULL after a success): a webhook failing without a
-- single success for SPEAKNODE_DISABLE_AFTER is disabled with reason `failing`.
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
CREATE INDEX deliveries_failed_by_webhook ON deliveries (webhook_id, created_at) WHERE state = 'failed';
