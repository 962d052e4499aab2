-- Issue 23, SQLite: the one table kept (scripts/sqlite-layouts measured PostgreSQL's split into
-- a queue and a history here: no fewer WAL frames with one webhook, one statement more per
-- delivery), with only the indexes a read needs. Each index is a b-tree whose pages every group
-- commit rewrites where it inserts; one keyed by webhook first is dirtied at one place per
-- webhook, and one keyed by a column the claim or the attempt moves is dirtied twice.
--
-- Every read of a webhook's deliveries by state asks for its pending ones (holding, cancelling
-- on delete, the pending count; its failed ones have `deliveries_failed_by_webhook`), so that
-- index holds only the backlog and a finished delivery leaves it.
DROP INDEX deliveries_by_webhook;
CREATE INDEX deliveries_pending_by_webhook ON deliveries (webhook_id) WHERE state = 'pending';
-- Retention finds the attempts of pruned events through their deliveries
-- (`deliveries_by_event`, then `attempts_by_delivery`), as PostgreSQL's migration 0013 does.
DROP INDEX attempts_by_event;
