-- A notice keeps what happened (`facts`, JSON) and its mail is composed when it is sent or
-- shown, by the delivery layer, with the links of the server that sends it. Notices stored
-- before keep the subject and body they were composed with. SQLite can't drop NOT NULL in
-- place, so the table is rebuilt (nothing references it).
CREATE TABLE webhook_notifications_new (
    id           BLOB PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    webhook_id   BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id  BLOB,
    kind         TEXT NOT NULL CHECK (kind IN ('exception', 'disabled')),
    recipients   TEXT NOT NULL,
    facts        TEXT,
    subject      TEXT,
    body         TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    send_error   TEXT,
    -- Held by the process mailing it, so several nodes never mail one notice twice.
    locked_until TEXT,
    CHECK (facts IS NOT NULL OR (subject IS NOT NULL AND body IS NOT NULL))
) STRICT;
INSERT INTO webhook_notifications_new (id, account_id, webhook_id, delivery_id, kind, recipients,
    subject, body, created_at, sent_at, send_error, locked_until)
SELECT id, account_id, webhook_id, delivery_id, kind, recipients, subject, body, created_at,
    sent_at, send_error, locked_until
FROM webhook_notifications;
DROP TABLE webhook_notifications;
ALTER TABLE webhook_notifications_new RENAME TO webhook_notifications;
CREATE INDEX webhook_notifications_by_account ON webhook_notifications (account_id, created_at, id);
CREATE INDEX webhook_notifications_unsent ON webhook_notifications (created_at) WHERE sent_at IS NULL;
