-- Group members are read by group: `WHERE account_id = ? AND group_id IN (…)` (a group's
-- members, the member pages and counts). With `scim_group_members_by_member` on
-- (account_id, member_id), SQLite (no statistics, so every single-column equality looks as
-- selective as another) chose that index for `account_id = ?` and read every membership of the
-- account, then sorted: a group of 1,000 cost as much as all 111,000 memberships of the account.
-- Leading with member_id leaves the primary key (group_id, member_id) as the only index those
-- queries can use, and still serves the by-member lookups (`account_id = ? AND member_id = ?`
-- when a User or Group is deleted).
DROP INDEX scim_group_members_by_member;
CREATE INDEX scim_group_members_by_member ON scim_group_members (member_id, account_id);
