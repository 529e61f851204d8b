-- A delivery that its first attempt finished — sent once and answered, as nearly every one is —
-- keeps that attempt in its own row instead of an attempt row beside it (issue 18): its
-- status, duration, error, time and envelope are already the delivery's; these columns hold
-- the rest (what `webhook_delivery_attempts` holds in the same-named columns without the
-- prefix). `attempt_response_headers` is set exactly when the attempt is kept here. Deliveries
-- that needed a second attempt keep every attempt in `webhook_delivery_attempts`, as before.
--
-- Expand-only: nodes of the previous release read and write attempt rows as before; during an
-- upgrade they show no attempts for a delivery a new node finished at its first try.
ALTER TABLE webhook_deliveries ADD COLUMN attempt_sent_headers TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN attempt_response_headers TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN attempt_response_body TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN attempt_request_body BLOB;
ALTER TABLE webhook_deliveries ADD COLUMN attempt_webhook_policy_id BLOB;
ALTER TABLE webhook_deliveries ADD COLUMN attempt_signing_key_id TEXT;
