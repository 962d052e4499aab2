-- Fair claiming (one webhook never waits for another): a claim walks the webhooks that have
-- pending deliveries, one index seek each, and takes the oldest due ones of each within its
-- share, instead of the oldest due deliveries of all webhooks together.
CREATE INDEX deliveries_due_by_webhook ON deliveries (webhook_id, next_attempt_at)
    WHERE state = 'pending' AND held = 0 AND next_attempt_at IS NOT NULL;
