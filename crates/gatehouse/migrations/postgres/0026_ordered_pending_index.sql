-- One index write less for every delivery that is not ordered (issue 17). The claim holds back
-- a delivery of an ordered webhook while an earlier one of the same webhook is pending; it
-- looked for that one in an index of every pending delivery, which each insert and each lease
-- wrote to although only ordered deliveries are ever looked for. It now asks for the earlier
-- pending *ordered* delivery, from an index of those alone. (A webhook switched to ordered no
-- longer waits for the deliveries it queued before, unordered: those were never promised an
-- order.) The other lookups of a webhook's pending deliveries — parking and unparking — read
-- `webhook_deliveries_unsucceeded_by_webhook`, whose (webhook_id, status) prefix serves them.
--
-- Expand-only for the code: nodes of the previous release read and write the same columns; their
-- claim's check, without `ordered`, reads the pending deliveries of an ordered webhook from the
-- unsucceeded index and the rows: slower, not wrong.
-- Not CONCURRENTLY: migrations run in a transaction; writes to deliveries wait while the index is
-- built (it holds only pending ordered deliveries).
CREATE INDEX webhook_deliveries_ordered_pending ON webhook_deliveries (webhook_id, event_id)
    WHERE status = 'pending' AND ordered = TRUE;
DROP INDEX webhook_deliveries_pending_by_webhook;
