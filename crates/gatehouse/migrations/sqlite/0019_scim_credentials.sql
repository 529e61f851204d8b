-- An account's SCIM provisioning credential (Xurrent's "SCIM token"): the secret an identity
-- provider holds, tied to no person. Each row is one secret, stored only as its SHA-256. The
-- current secret has no `retires_at`; a rotation sets the replaced one's `retires_at` (it keeps
-- working until then) and inserts the new one. Revoking sets `revoked_at` on every secret of the
-- account. At most one current secret per account, enforced here so two rotations can't both win.

CREATE TABLE scim_credentials (
    id             BLOB PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    secret_hash    BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT,
    last_used_at   TEXT,
    retires_at     TEXT,
    revoked_at     TEXT
) STRICT;
CREATE UNIQUE INDEX scim_credentials_by_hash ON scim_credentials (secret_hash);
CREATE UNIQUE INDEX scim_credentials_one_current ON scim_credentials (account_id)
    WHERE retires_at IS NULL AND revoked_at IS NULL;
