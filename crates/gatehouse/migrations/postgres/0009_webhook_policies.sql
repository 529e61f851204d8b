-- Webhook policies and their key pairs; webhooks' Standard Webhooks signing secrets; and, per
-- attempt, the exact bytes sent when they differ from the delivery's message (signed ones) and
-- which policy key signed them.
--
-- Private keys and secrets are stored sealed (AES-256-GCM under the server key, bound to the
-- row's id): a copy of the database alone signs nothing.

CREATE TABLE webhook_policies (
    id                    UUID PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts (id),
    name                  TEXT NOT NULL,
    jwt_alg               TEXT NOT NULL,
    jwt_claim_expires_in  INTEGER NOT NULL,
    jwt_audience          TEXT,
    jwt_format            TEXT NOT NULL DEFAULT 'jwt',
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_policies_by_account ON webhook_policies (account_id, created_at, id);

CREATE TABLE webhook_policy_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    policy_id    UUID NOT NULL REFERENCES webhook_policies (id) ON DELETE CASCADE,
    jwt_alg      TEXT NOT NULL,
    private_key  BYTEA NOT NULL,
    active_from  TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_policy_keys_by_policy ON webhook_policy_keys (policy_id, active_from);

CREATE INDEX webhooks_by_policy ON webhooks (webhook_policy_id) WHERE webhook_policy_id IS NOT NULL;

CREATE TABLE webhook_secrets (
    id          UUID PRIMARY KEY,
    webhook_id  UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    secret      BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ
);
CREATE INDEX webhook_secrets_by_webhook ON webhook_secrets (webhook_id, created_at);

ALTER TABLE webhook_delivery_attempts ADD COLUMN request_body BYTEA;
ALTER TABLE webhook_delivery_attempts ADD COLUMN webhook_policy_id UUID;
ALTER TABLE webhook_delivery_attempts ADD COLUMN signing_key_id TEXT;
