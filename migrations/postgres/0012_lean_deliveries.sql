-- No read needs a webhook's deliveries by creation time any more: the webhook page's count of
-- the last 24 hours' deliveries by state, which read every one of them (0.5–1 s at 400,000), gave
-- way to the Activity chart's tallies and a count of pending deliveries. One index fewer for
-- every delivery written.
DROP INDEX deliveries_by_webhook_created;
