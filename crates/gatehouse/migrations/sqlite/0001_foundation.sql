-- Accounts, people, roles, personal access tokens and the events outbox.
-- Ids are UUIDs stored as 16-byte blobs; timestamps RFC 3339 text in UTC (micro-second precision).

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    id                 BLOB PRIMARY KEY NOT NULL,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    name               TEXT NOT NULL,
    primary_email      TEXT,
    primary_email_key  TEXT,
    job_title          TEXT,
    employee_number    TEXT,
    disabled           INTEGER NOT NULL DEFAULT 0,
    source             TEXT NOT NULL CHECK (source IN ('manual', 'scim')),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX people_email_per_account ON people (account_id, primary_email_key);
CREATE INDEX people_by_account_name ON people (account_id, name, id);
CREATE INDEX people_by_account_created ON people (account_id, created_at, id);

CREATE TABLE person_roles (
    person_id   BLOB NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    role        TEXT NOT NULL CHECK (role IN ('account_administrator', 'directory_administrator', 'specialist')),
    PRIMARY KEY (person_id, role)
) STRICT;
CREATE INDEX person_roles_by_account_role ON person_roles (account_id, role);

CREATE TABLE personal_access_tokens (
    id            BLOB PRIMARY KEY NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    person_id     BLOB NOT NULL REFERENCES people (id),
    name          TEXT NOT NULL,
    description   TEXT,
    scopes        TEXT NOT NULL,
    secret_hash   BLOB NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
) STRICT;
CREATE UNIQUE INDEX personal_access_tokens_by_hash ON personal_access_tokens (secret_hash);
CREATE INDEX personal_access_tokens_by_owner ON personal_access_tokens (account_id, person_id, created_at, id);
CREATE INDEX personal_access_tokens_by_account ON personal_access_tokens (account_id, created_at, id);

-- The outbox: every changing command appends here in its own transaction.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    person_id    BLOB,
    person_name  TEXT,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX events_by_account ON events (account_id, id);
