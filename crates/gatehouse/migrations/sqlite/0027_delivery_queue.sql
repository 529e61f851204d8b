-- The delivery queue out of the wide delivery row (issue 17). A claim's lease and the lease's
-- end used to be written into `webhook_deliveries` itself: each lease rewrote a row of some
-- twenty columns and the entries of its indexes, and the recording rewrote it again. A pending
-- delivery's schedule and lease now live in a narrow row of their own, which the claim updates
-- and the recording deletes: the wide row is written when the delivery is made and when its
-- attempt is recorded, and no more.
--
--   due_at     when the delivery is due; while leased, the lease's end (a visibility timeout);
--              NULL while it is parked (its webhook inactive, its policy disabled or missing).
--   locked_by  the worker holding the lease, or NULL.
--
-- A row exists exactly while the delivery is pending and this release schedules it. Such a wide
-- row keeps `next_attempt_at` NULL and `locked_until` at 9999-12-31 (a fence), which a process
-- of the previous release never leases. A database of one delivering process needs no more:
-- every pending delivery moves into the queue now (the process releases its leases when it
-- starts anyway).
CREATE TABLE webhook_delivery_queue (
    delivery_id BLOB PRIMARY KEY NOT NULL,
    webhook_id  BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL,
    ordered     BOOLEAN NOT NULL,
    due_at      TEXT,
    locked_by   TEXT
) WITHOUT ROWID;
CREATE INDEX webhook_delivery_queue_due ON webhook_delivery_queue (due_at)
    WHERE due_at IS NOT NULL;
-- No index by webhook: parking and unparking, rare, find a webhook's pending deliveries in
-- `webhook_deliveries_unsucceeded_by_webhook` and their queue rows by key; a webhook's deletion
-- reads the whole queue. Every delivery made and sent writes one index fewer.

INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, due_at)
SELECT id, webhook_id, event_id, ordered, next_attempt_at FROM webhook_deliveries
WHERE status = 'pending';
UPDATE webhook_deliveries
SET next_attempt_at = NULL, locked_by = NULL, locked_until = '9999-12-31T00:00:00+00:00'
WHERE status = 'pending';
