-- Webhooks, their deliveries (the durable queue), every attempt, exception notifications and
-- the idempotency keys of published events.
--
-- A delivery is one message (one event for one webhook). `next_attempt_at` is NULL while the
-- delivery is parked: its webhook is disabled or unverified. `locked_by`/`locked_until` are the
-- lease a worker holds while sending; an expired lease is taken over by any worker.

CREATE TABLE webhooks (
    id                       BLOB PRIMARY KEY NOT NULL,
    account_id               TEXT NOT NULL REFERENCES accounts (id),
    name                     TEXT NOT NULL,
    event                    TEXT NOT NULL,
    uri                      TEXT NOT NULL,
    disabled                 INTEGER NOT NULL DEFAULT 0,
    description              TEXT,
    webhook_policy_id        BLOB,
    mail_exceptions_to       TEXT NOT NULL DEFAULT '',
    ordered                  INTEGER NOT NULL DEFAULT 0,
    rate_limit_per_second    INTEGER,
    verified_at              TEXT,
    verification_hash        BLOB,
    verification_sent_at     TEXT,
    consecutive_failures     INTEGER NOT NULL DEFAULT 0,
    last_exception_at        TEXT,
    disabled_reason          TEXT,
    last_delivery_id         BLOB,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
) STRICT;
CREATE INDEX webhooks_by_account ON webhooks (account_id, created_at, id);
CREATE UNIQUE INDEX webhooks_by_verification ON webhooks (verification_hash);

CREATE TABLE webhook_deliveries (
    id                 BLOB PRIMARY KEY NOT NULL,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    webhook_id         BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id           INTEGER NOT NULL REFERENCES events (id),
    event              TEXT NOT NULL,
    ordered            INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT,
    locked_by          TEXT,
    locked_until       TEXT,
    request_body       BLOB,
    response_status    INTEGER,
    duration_ms        INTEGER,
    error              TEXT,
    redelivery_of_id   BLOB,
    redelivered_by_id  BLOB,
    sent_at            TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_by_account ON webhook_deliveries (account_id, created_at, id);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_pending_by_webhook ON webhook_deliveries (webhook_id, event_id)
    WHERE status = 'pending';

CREATE TABLE webhook_delivery_attempts (
    delivery_id       BLOB NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt           INTEGER NOT NULL,
    request_uri       TEXT NOT NULL,
    request_headers   TEXT NOT NULL,
    response_status   INTEGER,
    response_headers  TEXT NOT NULL,
    response_body     TEXT NOT NULL,
    duration_ms       INTEGER NOT NULL,
    error             TEXT,
    sent_at           TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;

CREATE TABLE webhook_notifications (
    id           BLOB PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    webhook_id   BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id  BLOB,
    kind         TEXT NOT NULL CHECK (kind IN ('exception', 'disabled')),
    recipients   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    send_error   TEXT,
    -- Held by the process mailing it, so several nodes never mail one notice twice.
    locked_until TEXT
) STRICT;
CREATE INDEX webhook_notifications_by_account ON webhook_notifications (account_id, created_at, id);
CREATE INDEX webhook_notifications_unsent ON webhook_notifications (created_at) WHERE sent_at IS NULL;

CREATE TABLE event_idempotency_keys (
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    idempotency_key TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    event_id      INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
) STRICT;
CREATE INDEX event_idempotency_keys_by_age ON event_idempotency_keys (created_at);
