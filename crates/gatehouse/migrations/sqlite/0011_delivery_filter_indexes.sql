-- The console's delivery filters (issue 6): status, event, and a webhook's deliveries by status,
-- newest first, each a range of one index, so a page and its (capped) count never read the
-- rows — whose message bodies make a table scan of 100,000 deliveries take 50 to 300 ms.
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (account_id, status, created_at, id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (account_id, event, created_at, id);
CREATE INDEX webhook_deliveries_by_webhook_status ON webhook_deliveries (webhook_id, status, created_at, id);
