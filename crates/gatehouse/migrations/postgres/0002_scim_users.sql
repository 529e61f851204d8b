-- SCIM Users: the provisioning client's view of a person (spec/README.md "SCIM Users").
-- `resource` keeps the representation the client sent (less id, meta, password and groups); the
-- other columns are projections of it, so filters and sorting run as indexed SQL. `*_key`
-- columns hold the value lower-cased by the service, for case-insensitive attributes; on
-- PostgreSQL they use the "C" collation, so prefix matches and sorting use their indexes and
-- order by code point as SQLite does.

CREATE TABLE scim_users (
    id                  UUID PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    person_id           UUID NOT NULL REFERENCES people (id),
    user_name           TEXT NOT NULL,
    user_name_key       TEXT COLLATE "C" NOT NULL,
    external_id         TEXT,
    display_name        TEXT,
    display_name_key    TEXT COLLATE "C",
    given_name          TEXT,
    family_name         TEXT,
    family_name_key     TEXT COLLATE "C",
    title               TEXT,
    user_type           TEXT,
    active              BOOLEAN NOT NULL,
    employee_number     TEXT,
    department          TEXT,
    organization        TEXT,
    manager_id          UUID,
    password_hash       TEXT,
    resource            JSONB NOT NULL,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (account_id, user_name_key);
CREATE UNIQUE INDEX scim_users_person ON scim_users (person_id);
CREATE INDEX scim_users_external_id ON scim_users (account_id, external_id);
CREATE INDEX scim_users_display_name ON scim_users (account_id, display_name_key);
CREATE INDEX scim_users_family_name ON scim_users (account_id, family_name_key);
CREATE INDEX scim_users_created ON scim_users (account_id, created_at, id);
CREATE INDEX scim_users_updated ON scim_users (account_id, updated_at, id);

-- Multi-valued attributes (emails, phoneNumbers, ims, photos, entitlements, roles,
-- x509Certificates, addresses) as rows, so `emails[type eq "work" and value co "@x"]` is an
-- EXISTS over one indexed table.
CREATE TABLE scim_user_values (
    scim_user_id    UUID NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    attribute       TEXT NOT NULL,
    position        INTEGER NOT NULL,
    value           TEXT,
    value_key       TEXT COLLATE "C",
    type            TEXT,
    is_primary      BOOLEAN NOT NULL DEFAULT FALSE,
    display         TEXT,
    PRIMARY KEY (scim_user_id, attribute, position)
);
CREATE INDEX scim_user_values_by_value ON scim_user_values (account_id, attribute, value_key);
