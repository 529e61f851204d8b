-- The delivery queue out of the wide delivery row (issue 17). A claim's lease and the lease's
-- end used to be written into `webhook_deliveries` itself: each lease rewrote a row of some
-- twenty columns and added an entry to each of its indexes, and the recording rewrote it again.
-- A pending delivery's schedule and lease now live in a narrow row of their own, which the claim
-- updates and the recording deletes: the wide row is written when the delivery is made and when
-- its attempt is recorded, and no more.
--
--   due_at     when the delivery is due; while leased, the lease's end (a visibility timeout);
--              NULL while it is parked (its webhook inactive, its policy disabled or missing).
--   locked_by  the worker holding the lease, or NULL.
--
-- A row exists exactly while the delivery is pending and this release schedules it. Such a wide
-- row keeps `next_attempt_at` NULL and `locked_until` at 9999-12-31 (a fence), so that nodes of
-- the previous release, whose claims read `next_attempt_at` and `locked_until`, never lease it.
-- Their deliveries — those they publish, and those whose attempt they record as a retry — keep
-- the old columns; a node of this release moves each into the queue once no lease holds it (the
-- upkeep's `queue_unqueued`), so nothing is sent twice and nothing is left behind when the last
-- old node stops. A later release drops the fence and the old columns' index.
CREATE TABLE webhook_delivery_queue (
    delivery_id UUID PRIMARY KEY,
    webhook_id  UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    BIGINT NOT NULL,
    ordered     BOOLEAN NOT NULL,
    due_at      TIMESTAMPTZ,
    locked_by   TEXT
);
CREATE INDEX webhook_delivery_queue_due ON webhook_delivery_queue (due_at)
    WHERE due_at IS NOT NULL;
-- No index by webhook: parking and unparking, rare, find a webhook's pending deliveries in
-- `webhook_deliveries_unsucceeded_by_webhook` and their queue rows by key; a webhook's deletion
-- reads the whole queue. Every delivery made and sent writes one index fewer.

-- Every pending delivery no lease holds now, parked or due, moves into the queue. The rows are
-- locked before they are read, so a lease an old node takes meanwhile keeps its delivery out.
WITH moving AS (
    SELECT id, next_attempt_at FROM webhook_deliveries
    WHERE status = 'pending' AND (locked_until IS NULL OR locked_until < now())
    FOR UPDATE
), fenced AS (
    UPDATE webhook_deliveries d
    SET next_attempt_at = NULL, locked_by = NULL, locked_until = '9999-12-31T00:00:00Z'
    FROM moving WHERE d.id = moving.id
    RETURNING d.id, d.webhook_id, d.event_id, d.ordered, moving.next_attempt_at
)
INSERT INTO webhook_delivery_queue (delivery_id, webhook_id, event_id, ordered, due_at)
SELECT id, webhook_id, event_id, ordered, next_attempt_at FROM fenced;
