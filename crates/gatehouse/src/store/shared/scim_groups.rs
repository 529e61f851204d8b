//! SCIM Groups and their members, stored as rows so a member change writes one row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, types::Json};
use uuid::Uuid;

use crate::domain::{
    AccountId, GroupMember, MemberType, MembershipChange, NewEvent, NewMember, ScimGroupId,
    ScimGroupRecord, UserGroup, case_insensitive_key, truncate_to_micros,
};
use scim::schema::{DEFAULT_GROUP_TYPE, GROUP_TYPES};

use crate::store::dialect::Dialect;
use crate::store::{Listing, ScimGroupStore, ScimPage, StoreError, StoreResult};

use super::scim_page::filtered_page;
use super::{Backend, Db};
use super::{
    RecordRow, classify, count_as_u64, delete_record, offset_as_i64, parse_account_id, record_where,
};

#[derive(FromRow)]
pub(super) struct ScimGroupRow {
    id: Uuid,
    account_id: String,
    display_name: String,
    external_id: Option<String>,
    group_type: String,
    group_type_text: Option<String>,
    unique_name_key: Option<String>,
    resource: Json<serde_json::Value>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RecordRow for ScimGroupRow {
    type Record = ScimGroupRecord;
    const TABLE: &'static str = "scim_groups";
    const ALIAS: &'static str = "g";
    const COLUMNS: &'static str = "id, account_id, display_name, external_id, group_type, \
        group_type_text, unique_name_key, resource, version, created_at, updated_at";

    fn into_record(self) -> StoreResult<ScimGroupRecord> {
        Ok(ScimGroupRecord {
            id: ScimGroupId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            display_name: self.display_name,
            external_id: self.external_id,
            group_type: self.group_type_text.unwrap_or(self.group_type),
            name_claimed: self.unique_name_key.is_some(),
            resource: self.resource.0,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct MemberRow {
    group_id: Uuid,
    member_id: Uuid,
    type_name: String,
    display: Option<String>,
}

pub(super) async fn write_scim_group_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    group: &ScimGroupRecord,
    expected_version: Option<i64>,
) -> StoreResult<bool> {
    let sql = match expected_version {
        None => {
            "INSERT INTO scim_groups (account_id, id, display_name, display_name_key, external_id, \
             group_type, resource, version, created_at, updated_at, group_type_text, \
             unique_name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13)"
        }
        Some(_) => {
            "UPDATE scim_groups SET display_name = $3, display_name_key = $4, external_id = $5, \
             group_type = $6, resource = $7, version = $8, created_at = $9, updated_at = $10, \
             group_type_text = $12, unique_name_key = $13 \
             WHERE account_id = $1 AND id = $2 AND version = $11"
        }
    };
    // A type of Xurrent's that is none of ours is kept apart: `group_type` keeps its CHECK
    // (and `team`, what nodes of the previous release show).
    let known = GROUP_TYPES.contains(&group.group_type.as_str());
    let (group_type, group_type_text) = if known {
        (group.group_type.as_str(), None)
    } else {
        (DEFAULT_GROUP_TYPE, Some(group.group_type.as_str()))
    };
    let key = case_insensitive_key(&group.display_name);
    let result = sqlx::query(sql)
        .bind(group.account_id.as_str())
        .bind(group.id.0)
        .bind(&group.display_name)
        .bind(&key)
        .bind(&group.external_id)
        .bind(group_type)
        .bind(Json(&group.resource))
        .bind(group.version)
        .bind(truncate_to_micros(group.created_at))
        .bind(truncate_to_micros(group.updated_at))
        .bind(expected_version)
        .bind(group_type_text)
        .bind(group.name_claimed.then_some(key.as_str()))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(result.rows_affected() == 1)
}

/// Rows per multi-row INSERT or DELETE: 6 binds a row stays far below both backends' bind
/// limits, and a 100,000-member PUT takes 200 statements instead of 100,000.
pub(super) const MEMBER_ROWS_PER_STATEMENT: usize = 500;

pub(super) async fn add_members(
    connection: &mut <Db as sqlx::Database>::Connection,
    group: &ScimGroupRecord,
    members: &[NewMember],
) -> StoreResult<()> {
    for chunk in members.chunks(MEMBER_ROWS_PER_STATEMENT) {
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO scim_group_members (group_id, account_id, member_id, value, type, \
             display) ",
        );
        query.push_values(chunk, |mut row, member| {
            row.push_bind(group.id.0)
                .push_bind(group.account_id.as_str().to_owned())
                .push_bind(member.id)
                .push_bind(member.id.to_string())
                .push_bind(member.member_type.as_str())
                .push_bind(member.display.clone());
        });
        query.push(" ON CONFLICT (group_id, member_id) DO NOTHING");
        query
            .build()
            .execute(&mut *connection)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// Starts the statement `{start} = <key> AND {column} IN (<ids>)`, which reads or deletes a
/// batch of rows of one account or group at once; the caller adds what follows (`ORDER BY`,
/// `GROUP BY`) and runs it.
fn where_in<'t, K>(
    start: impl Into<String>,
    key: K,
    column: &str,
    ids: impl IntoIterator<Item = Uuid>,
) -> sqlx::QueryBuilder<Db>
where
    K: sqlx::Encode<'t, Db> + sqlx::Type<Db>,
{
    let mut query = sqlx::QueryBuilder::<Db>::new(start);
    query
        .push(" = ")
        .push_bind(key)
        .push(format!(" AND {column} IN ("));
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(id);
    }
    query.push(")");
    query
}

pub(super) async fn remove_members(
    connection: &mut <Db as sqlx::Database>::Connection,
    group: &ScimGroupRecord,
    members: &[Uuid],
) -> StoreResult<()> {
    for chunk in members.chunks(MEMBER_ROWS_PER_STATEMENT) {
        let mut query = where_in(
            "DELETE FROM scim_group_members WHERE group_id",
            group.id.0,
            "member_id",
            chunk.iter().copied(),
        );
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// Takes `member` (a deleted User or Group) out of every group of the account.
pub(super) async fn remove_from_groups(
    connection: &mut <Db as sqlx::Database>::Connection,
    account: &AccountId,
    member: Uuid,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM scim_group_members WHERE account_id = $1 AND member_id = $2")
        .bind(account.as_str())
        .bind(member)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

pub(super) const MEMBER_COLUMNS: &str = "m.group_id, m.member_id, m.type AS type_name, \
     COALESCE(m.display, u.display_name, u.user_name, mg.display_name) AS display \
     FROM scim_group_members m \
     LEFT JOIN scim_users u ON u.id = m.member_id \
     LEFT JOIN scim_groups mg ON mg.id = m.member_id";

pub(super) fn member_of_row(row: MemberRow) -> StoreResult<(ScimGroupId, GroupMember)> {
    let member_type = MemberType::parse(&row.type_name)
        .ok_or_else(|| StoreError::Corrupt(format!("member type {:?}", row.type_name)))?;
    Ok((
        ScimGroupId(row.group_id),
        GroupMember {
            id: row.member_id,
            member_type,
            display: row.display,
        },
    ))
}

#[async_trait]
impl ScimGroupStore for Backend {
    async fn insert_scim_group(
        &self,
        group: &ScimGroupRecord,
        members: &[NewMember],
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        write_scim_group_row(&mut transaction, group, None).await?;
        add_members(&mut transaction, group, members).await?;
        self.commit_with_events(transaction, events).await
    }

    async fn replace_scim_group(
        &self,
        group: &ScimGroupRecord,
        expected_version: i64,
        members: &MembershipChange,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !write_scim_group_row(&mut transaction, group, Some(expected_version)).await? {
            return Ok(false);
        }
        match members {
            MembershipChange::Unchanged => {}
            MembershipChange::Replace(members) => {
                sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
                    .bind(group.id.0)
                    .execute(&mut *transaction)
                    .await?;
                add_members(&mut transaction, group, members).await?;
            }
            MembershipChange::Edit { added, removed } => {
                remove_members(&mut transaction, group, removed).await?;
                add_members(&mut transaction, group, added).await?;
            }
        }
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn delete_scim_group(
        &self,
        account: &AccountId,
        id: ScimGroupId,
        expected_version: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !delete_record::<ScimGroupRow>(&mut transaction, account, id.0, Some(expected_version))
            .await?
        {
            return Ok(false);
        }
        // A deleted group is no longer a member of other groups.
        remove_from_groups(&mut transaction, account, id.0).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn scim_group(
        &self,
        account: &AccountId,
        id: ScimGroupId,
    ) -> StoreResult<Option<ScimGroupRecord>> {
        record_where::<ScimGroupRow>(self.pool(), account, "id", id.0).await
    }

    async fn scim_groups(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimGroupRecord>> {
        filtered_page::<ScimGroupRow>(self.pool(), account, page).await
    }

    async fn scim_group_members(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, GroupMember)>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = where_in(
            format!("SELECT {MEMBER_COLUMNS} WHERE m.account_id"),
            account.as_str().to_owned(),
            "m.group_id",
            groups.iter().map(|group| group.0),
        );
        query.push(" ORDER BY m.group_id, m.member_id");
        // Not a cached prepared statement: PostgreSQL then plans each call for the groups it names.
        // A cached statement soon gets the generic plan, estimated for an average group; in an
        // account of a few large groups that plan hash-joins every membership of the account with
        // every User (27 ms for a group of 1,000 beside one of 100,000, 7 ms planned for the group).
        let rows: Vec<MemberRow> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(member_of_row).collect()
    }

    async fn scim_group_member_page(
        &self,
        account: &AccountId,
        group: ScimGroupId,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Listing<GroupMember>> {
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM scim_group_members WHERE group_id = $1 AND account_id = $2",
        )
        .bind(group.0)
        .bind(account.as_str())
        .fetch_one(self.pool())
        .await?;
        let rows: Vec<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMBER_COLUMNS} WHERE m.group_id = $1 AND m.account_id = $2 \
             ORDER BY m.member_id LIMIT $3 OFFSET $4"
        )))
        .bind(group.0)
        .bind(account.as_str())
        .bind(i64::from(limit))
        .bind(offset_as_i64(offset))
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .into_iter()
            .map(|row| member_of_row(row).map(|(_, member)| member))
            .collect::<StoreResult<_>>()?;
        Ok(Listing {
            items,
            total: count_as_u64(total),
        })
    }

    async fn scim_group_member_counts(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, u64)>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = where_in(
            "SELECT group_id, COUNT(*) FROM scim_group_members WHERE account_id",
            account.as_str().to_owned(),
            "group_id",
            groups.iter().map(|group| group.0),
        );
        query.push(" GROUP BY group_id");
        let rows: Vec<(Uuid, i64)> = query.build_query_as().fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(group, count)| (ScimGroupId(group), count_as_u64(count)))
            .collect())
    }

    async fn scim_group_named(
        &self,
        account: &AccountId,
        display_name: &str,
        except: Option<ScimGroupId>,
    ) -> StoreResult<Option<ScimGroupId>> {
        let found: Option<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM scim_groups WHERE account_id = $1 AND display_name_key = $2 \
             AND id <> $3 LIMIT 1",
        )
        .bind(account.as_str())
        .bind(case_insensitive_key(display_name))
        .bind(except.map_or(Uuid::nil(), |group| group.0))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.map(|(id,)| ScimGroupId(id)))
    }

    async fn scim_groups_of_members(
        &self,
        account: &AccountId,
        members: &[Uuid],
    ) -> StoreResult<Vec<(Uuid, UserGroup)>> {
        let mut found = Vec::new();
        // Chunked like every IN list here; a page has at most 200 Users, so this is one query.
        for chunk in members.chunks(MEMBER_ROWS_PER_STATEMENT) {
            let mut query = where_in(
                "SELECT m.member_id, g.id, g.display_name FROM scim_group_members m \
                 JOIN scim_groups g ON g.id = m.group_id WHERE m.account_id",
                account.as_str().to_owned(),
                "m.member_id",
                chunk.iter().copied(),
            );
            query.push(" ORDER BY m.member_id, g.display_name_key, g.id");
            let rows: Vec<(Uuid, Uuid, String)> =
                query.build_query_as().fetch_all(self.pool()).await?;
            found.extend(rows.into_iter().map(|(member, id, display_name)| {
                (
                    member,
                    UserGroup {
                        id: ScimGroupId(id),
                        display_name,
                    },
                )
            }));
        }
        Ok(found)
    }

    async fn scim_member_kinds(
        &self,
        account: &AccountId,
        ids: &[Uuid],
    ) -> StoreResult<Vec<(Uuid, MemberType)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for (table, member_type) in [
            ("scim_users", MemberType::User),
            ("scim_groups", MemberType::Group),
        ] {
            for chunk in ids.chunks(500) {
                let mut query = where_in(
                    format!("SELECT id FROM {table} WHERE account_id"),
                    account.as_str().to_owned(),
                    "id",
                    chunk.iter().copied(),
                );
                let rows: Vec<(Uuid,)> = query.build_query_as().fetch_all(self.pool()).await?;
                found.extend(rows.into_iter().map(|(id,)| (id, member_type)));
            }
        }
        Ok(found)
    }
}
