-- Group members are read by group: `WHERE account_id = $1 AND group_id IN (…)` (a group's
-- members, the member pages and counts). `scim_group_members_by_member` on
-- (account_id, member_id) offered the planner a scan of every membership of the account for
-- `account_id = $1`, which SQLite took (see the SQLite migration of the same number) and which
-- PostgreSQL may take before it has statistics. Leading with member_id leaves the primary key
-- (group_id, member_id) as the only index those queries can use, and still serves the by-member
-- lookups (`account_id = $1 AND member_id = $2` when a User or Group is deleted).
DROP INDEX scim_group_members_by_member;
CREATE INDEX scim_group_members_by_member ON scim_group_members (member_id, account_id);
