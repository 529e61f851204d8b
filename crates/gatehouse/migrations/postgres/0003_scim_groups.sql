-- SCIM Groups: display name, group type and members (spec/README.md "SCIM Groups").
-- Membership is a table, so adding one member to a group of 100,000 writes one row.

CREATE TABLE scim_groups (
    id                  UUID PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    display_name        TEXT NOT NULL,
    display_name_key    TEXT COLLATE "C" NOT NULL,
    external_id         TEXT,
    group_type          TEXT NOT NULL CHECK (group_type IN ('team', 'organization', 'site', 'skill_pool', 'role')),
    resource            JSONB NOT NULL,
    version             BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX scim_groups_display_name ON scim_groups (account_id, display_name_key);
CREATE INDEX scim_groups_external_id ON scim_groups (account_id, external_id);
CREATE INDEX scim_groups_created ON scim_groups (account_id, created_at, id);

-- `value` repeats the member id as text and `attribute` is always 'members', so the SCIM filter
-- compiler can treat the table like any multi-valued attribute (`members[value eq "…"]`).
CREATE TABLE scim_group_members (
    group_id     UUID NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL,
    member_id    UUID NOT NULL,
    attribute    TEXT NOT NULL DEFAULT 'members',
    value        TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('User', 'Group')),
    -- The name the client gave the member, if any (RFC 7643 §2.4 `display`, immutable).
    display      TEXT,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX scim_group_members_by_member ON scim_group_members (account_id, member_id);
