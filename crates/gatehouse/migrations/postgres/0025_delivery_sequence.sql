-- A count for the ids of deliveries minted by the database (issue 17). An event published
-- through the API is appended, fanned out to its listening webhooks and announced in one
-- statement, whose delivery ids are `DeliveryId::from_halves(DeliveryId::time_half(created_at),
-- nextval(...))`: the same UUIDv7 layout as the ids a node mints with its own count, unique
-- across nodes because the sequence is one.
--
-- Expand-only: nodes of the previous release never read it.
CREATE SEQUENCE webhook_delivery_sequence AS BIGINT CYCLE;
