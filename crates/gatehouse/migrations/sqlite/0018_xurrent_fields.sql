-- Xurrent's generic `source` and `sourceID` fields on webhooks and webhook policies: an
-- integration that creates records sets them to find its records again. And whether a policy's
-- messages carry an `exp` claim at all (Xurrent's default is none): `jwt_claim_expires_in`
-- keeps a value nodes of the previous release can sign with (they send an `exp` of that many
-- minutes), so this stays expand-only. A delivery made by `POST /v1/webhooks/{id}/test` is
-- marked `test_mode` (Xurrent's "Test mode"); nodes of the previous release hold such a
-- delivery back while its webhook is disabled, as they would any other. A webhook's
-- `openid_connect_discovery` makes its policy's messages name an issuer that serves the
-- policy's keys (nodes of the previous release sign its messages with the account's issuer).
-- A URI with basic-authentication credentials (`https://user:password@host/…`) is stored as
-- every view shows it, `https://user:***@host/…`, and its password apart, sealed by the
-- server key (nodes of the previous release send such a URI's `***` as the password).

ALTER TABLE webhooks ADD COLUMN source TEXT;
ALTER TABLE webhooks ADD COLUMN source_id TEXT;
ALTER TABLE webhook_policies ADD COLUMN source TEXT;
ALTER TABLE webhook_policies ADD COLUMN source_id TEXT;
ALTER TABLE webhook_policies ADD COLUMN jwt_exp_claim INTEGER NOT NULL DEFAULT 1;
ALTER TABLE webhook_deliveries ADD COLUMN test_mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN openid_connect_discovery INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN uri_password BLOB;
