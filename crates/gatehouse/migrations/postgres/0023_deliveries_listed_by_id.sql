-- Delivery listings keyed on the id (issue 18). Delivery ids are minted from `created_at`
-- (`DeliveryId::minted_at`: a UUIDv7 whose bits after the millisecond hold the microsecond), so
-- ordering by id is ordering by creation, and a listing index needs no `created_at` after its
-- leading columns: 32 bytes of text less in each of five entries per delivery. Queries bound
-- by time say it twice: an id range for the index and the `created_at` condition itself.
--
-- Expand-only for the code: nodes of the previous release read and write the same columns and
-- mint ids with `now_v7` (a few milliseconds after `created_at`, which the queries' time bounds
-- allow for); their listings, ordered by `created_at`, sort what the index gives them: slower,
-- not wrong.
-- Not CONCURRENTLY: migrations run in a transaction; writes to deliveries wait while the five
-- indexes are built.
DROP INDEX webhook_deliveries_by_account;
DROP INDEX webhook_deliveries_by_webhook;
DROP INDEX webhook_deliveries_by_event;
DROP INDEX webhook_deliveries_unsucceeded_by_account;
DROP INDEX webhook_deliveries_unsucceeded_by_webhook;
CREATE INDEX webhook_deliveries_by_account ON webhook_deliveries (account_id, id);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (account_id, event, id);
CREATE INDEX webhook_deliveries_unsucceeded_by_account
    ON webhook_deliveries (account_id, status, id) WHERE status <> 'succeeded';
CREATE INDEX webhook_deliveries_unsucceeded_by_webhook
    ON webhook_deliveries (webhook_id, status, id) WHERE status <> 'succeeded';
