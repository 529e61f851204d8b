-- Fewer bytes and fewer index writes per delivery (issues 17 and 18).
--
-- The status listings index only what is not `succeeded`. Nearly every delivery ends
-- succeeded; listing those is served by the (account, created_at, id) and (webhook,
-- created_at, id) indexes, where they are nearly every entry. Listings of pending or failed
-- deliveries — the few, looked for — keep an index of their own. A delivery that succeeds
-- leaves these indexes instead of being written into them again (an UPDATE inserts into a
-- partial index only the rows its predicate accepts).
--
-- Expand-only for the code: nodes of the previous release read and write the same columns
-- (their status filter may use the indexes that stay and read more rows: slower, not wrong).
-- Not CONCURRENTLY: migrations run in a transaction; writes to deliveries wait while the two
-- indexes are built.
DROP INDEX webhook_deliveries_by_status;
DROP INDEX webhook_deliveries_by_webhook_status;
CREATE INDEX webhook_deliveries_unsucceeded_by_account
    ON webhook_deliveries (account_id, status, created_at, id) WHERE status <> 'succeeded';
CREATE INDEX webhook_deliveries_unsucceeded_by_webhook
    ON webhook_deliveries (webhook_id, status, created_at, id) WHERE status <> 'succeeded';
