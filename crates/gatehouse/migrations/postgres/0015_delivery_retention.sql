-- Retention: finished deliveries (with their attempts), the events none of whose deliveries
-- are left, and notices older than an account's `delivery_retention_days` are purged in small
-- batches by every server and by `gatehouse purge`.
ALTER TABLE accounts ADD COLUMN delivery_retention_days INTEGER NOT NULL DEFAULT 90
    CHECK (delivery_retention_days BETWEEN 1 AND 3650);
-- What the purge asks of an event before it goes ("has it any delivery left?"), and what the
-- foreign key from deliveries to events checks for every deleted event.
CREATE INDEX webhook_deliveries_of_event ON webhook_deliveries (event_id);
-- Not CONCURRENTLY: that waits for every older transaction of the database, among them a node
-- waiting for the migrations' advisory lock, which deadlocks. The build holds writes to the
-- deliveries for as long as it takes.
