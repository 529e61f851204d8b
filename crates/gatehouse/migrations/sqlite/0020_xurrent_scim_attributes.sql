-- Xurrent's SCIM attributes (docs/PRODUCT.md "SCIM Users", "SCIM Groups"). Expand-only: nodes of
-- the previous release read and write these tables as before and never see the new columns.
--
-- The Enterprise User extension's `site`, `location` and `supportID`, as columns like
-- `department`, so filters and `sortBy` run in SQL.
ALTER TABLE scim_users ADD COLUMN site TEXT;
ALTER TABLE scim_users ADD COLUMN location TEXT;
ALTER TABLE scim_users ADD COLUMN support_id TEXT;

-- Xurrent's custom fields extension (`urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields`):
-- the representation keeps each field with its JSON type; these rows exist for filters and
-- sorting. `field` is the field's id in ASCII lower case (ids are ASCII, compared ignoring case
-- as attribute names are); `value` is a string as sent or the JSON text of any other value,
-- `value_key` its `scim::text::fold`. Filters read a field through the primary key, once per
-- User of the account, as they read `department` (which has no index either).
CREATE TABLE scim_user_custom_fields (
    scim_user_id    BLOB NOT NULL REFERENCES scim_users (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    field           TEXT NOT NULL,
    value           TEXT NOT NULL,
    value_key       TEXT NOT NULL,
    PRIMARY KEY (scim_user_id, field)
) STRICT;

-- A Group's displayName is unique in its account, ignoring case. Groups stored before may share
-- a name, and no unique index can be built over them, and renaming customer data is not ours to
-- do: so the unique index is over a key of its own, which a write sets when no other group of
-- the account has the name (every new or renamed group, and an old one once its name is its
-- own), and which stays NULL on the groups that still share a name; both databases let any
-- number of rows hold NULL under a unique index.
ALTER TABLE scim_groups ADD COLUMN unique_name_key TEXT;
CREATE UNIQUE INDEX scim_groups_unique_name ON scim_groups (account_id, unique_name_key);

-- A group type Xurrent sends that is none of ours (`group_type` keeps its CHECK, and `team`
-- for such a group, which is what nodes of the previous release see).
ALTER TABLE scim_groups ADD COLUMN group_type_text TEXT;

-- A person is a VIP when their SCIM User's `userType` is `VIP` (Xurrent's flag).
ALTER TABLE people ADD COLUMN vip INTEGER NOT NULL DEFAULT 0;
