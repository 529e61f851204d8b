-- One B-tree write less for every delivery that is not ordered (issue 17). The claim holds back
-- a delivery of an ordered webhook while an earlier one of the same webhook is pending; it
-- looked for that one in an index of every pending delivery, which each insert and each lease
-- wrote to although only ordered deliveries are ever looked for. It now asks for the earlier
-- pending *ordered* delivery, from an index of those alone. (A webhook switched to ordered no
-- longer waits for the deliveries it queued before, unordered: those were never promised an
-- order.) The other lookups of a webhook's pending deliveries — parking and unparking — say
-- `status <> 'succeeded'` word for word as well, so SQLite's planner reads them from
-- `webhook_deliveries_unsucceeded_by_webhook`.
--
-- Expand-only for the code: a process of the previous release reads and writes the same columns
-- (its queries then read the webhook's deliveries from another index: slower, not wrong).
CREATE INDEX webhook_deliveries_ordered_pending ON webhook_deliveries (webhook_id, event_id)
    WHERE status = 'pending' AND ordered = TRUE;
DROP INDEX webhook_deliveries_pending_by_webhook;
