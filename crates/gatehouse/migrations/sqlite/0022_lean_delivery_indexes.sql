-- Fewer bytes and fewer B-tree writes per delivery (issues 17 and 18).
--
-- 1. The status listings index only what is not `succeeded`. Nearly every delivery ends
--    succeeded; listing those is served by the (account, created_at, id) and (webhook,
--    created_at, id) indexes, where they are nearly every entry. Listings of pending or failed
--    deliveries — the few, looked for — keep an index of their own. Queries say
--    `status <> 'succeeded'` word for word so SQLite's planner may use it. A delivery that
--    succeeds leaves these indexes instead of being written into them again.
-- 2. Attempts are stored in their primary key's order (WITHOUT ROWID): one B-tree per attempt
--    instead of a table and an index beside it.
--
-- Expand-only for the code: nodes of the previous release read and write the same columns
-- (their status filter may use the indexes that stay and read more rows: slower, not wrong).
DROP INDEX webhook_deliveries_by_status;
DROP INDEX webhook_deliveries_by_webhook_status;
CREATE INDEX webhook_deliveries_unsucceeded_by_account
    ON webhook_deliveries (account_id, status, created_at, id) WHERE status <> 'succeeded';
CREATE INDEX webhook_deliveries_unsucceeded_by_webhook
    ON webhook_deliveries (webhook_id, status, created_at, id) WHERE status <> 'succeeded';

CREATE TABLE webhook_delivery_attempts_clustered (
    delivery_id        BLOB NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt            INTEGER NOT NULL,
    request_uri        TEXT NOT NULL,
    request_headers    TEXT NOT NULL,
    response_status    INTEGER,
    response_headers   TEXT NOT NULL,
    response_body      TEXT NOT NULL,
    duration_ms        INTEGER NOT NULL,
    error              TEXT,
    sent_at            TEXT NOT NULL,
    request_body       BLOB,
    webhook_policy_id  BLOB,
    signing_key_id     TEXT,
    envelope_id        INTEGER,
    sent_headers       TEXT,
    PRIMARY KEY (delivery_id, attempt)
) STRICT, WITHOUT ROWID;
INSERT INTO webhook_delivery_attempts_clustered
    SELECT delivery_id, attempt, request_uri, request_headers, response_status,
           response_headers, response_body, duration_ms, error, sent_at, request_body,
           webhook_policy_id, signing_key_id, envelope_id, sent_headers
    FROM webhook_delivery_attempts;
DROP TABLE webhook_delivery_attempts;
ALTER TABLE webhook_delivery_attempts_clustered RENAME TO webhook_delivery_attempts;
