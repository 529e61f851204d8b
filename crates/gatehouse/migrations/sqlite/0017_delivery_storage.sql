-- A delivery keeps what its message is built from, not the message: the event (stored once,
-- however many webhooks it goes to) and the envelope of its first attempt. An envelope is what
-- an attempt was sent with besides its event — the webhook's name and URI, the installation's
-- base URL and name — stored once for every attempt that shares it (`facts_digest` is the
-- SHA-256 of the four, so that long URIs fit the unique index). Envelopes are never deleted:
-- there is one per change of a webhook's name or URI.
CREATE TABLE message_envelopes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    facts_digest   BLOB NOT NULL,
    webhook_name   TEXT NOT NULL,
    uri            TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    instance_name  TEXT NOT NULL,
    UNIQUE (account_id, facts_digest)
) STRICT;
-- Set at a delivery's first attempt instead of `request_body`, which rows written before this
-- migration keep (and which code of the previous schema still writes during an upgrade).
ALTER TABLE webhook_deliveries ADD COLUMN envelope_id INTEGER;
-- An attempt's URI comes from its envelope, and its headers are kept compactly: only those that
-- don't follow from the attempt itself (`domain::message::compact_headers`). Rows written this
-- way have `request_uri` '' and `request_headers` '[]' for code of the previous schema.
ALTER TABLE webhook_delivery_attempts ADD COLUMN envelope_id INTEGER;
ALTER TABLE webhook_delivery_attempts ADD COLUMN sent_headers TEXT;
