//! Recomputing the `*_key` columns when `scim::text::FOLD_VERSION` is newer than the stored
//! keys (see `store/key_fold.rs` for why and how).

use std::collections::HashMap;

use chrono::Utc;
use sqlx::{FromRow, Transaction};
use uuid::Uuid;

use crate::domain::{case_insensitive_key, truncate_to_micros};
use crate::store::key_fold::{UniqueKeyRow, assign_unique_keys, parking_key};
use crate::store::{KeyClash, KeyKind, MigrationReport, StoreResult};

use super::Db;

/// How many `scim_user_values` rows are read at a time: there may be millions, and only the
/// few whose key changes are written.
pub(super) const VALUE_KEY_BATCH: i64 = 5_000;

/// Brings every stored key to `scim::text::FOLD_VERSION`, in the caller's write transaction,
/// unless they are already there.
pub(super) async fn refold_keys(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<MigrationReport> {
    // Writing the row first takes its lock on PostgreSQL, so a second process migrating at the
    // same moment waits here and then finds the version current; on SQLite the write
    // transaction already shuts other writers out.
    sqlx::query("UPDATE key_fold_version SET version = version WHERE id = 1")
        .execute(&mut **transaction)
        .await?;
    let (stored_version,): (i64,) =
        sqlx::query_as("SELECT version FROM key_fold_version WHERE id = 1")
            .fetch_one(&mut **transaction)
            .await?;
    let version = scim::text::FOLD_VERSION;
    if stored_version >= version {
        return Ok(MigrationReport::default());
    }
    let mut key_clashes = refold_scim_users(transaction).await?;
    key_clashes.extend(refold_people(transaction).await?);
    key_clashes.extend(refold_scim_groups(transaction).await?);
    refold_scim_user_values(transaction).await?;
    refold_custom_fields(transaction).await?;
    sqlx::query("UPDATE key_fold_version SET version = $1, refolded_at = $2 WHERE id = 1")
        .bind(version)
        .bind(truncate_to_micros(Utc::now()))
        .execute(&mut **transaction)
        .await?;
    Ok(MigrationReport {
        keys_refolded: Some((stored_version, version)),
        key_clashes,
    })
}

/// Logs what the key migration did: each clash as a warning, for operators whose service
/// migrated on start and who never saw `gatehouse migrate` print it.
pub(super) fn log_migration_report(report: &MigrationReport) {
    if let Some((from, to)) = report.keys_refolded {
        tracing::info!(
            from,
            to,
            clashes = report.key_clashes.len(),
            "recomputed the comparison keys"
        );
    }
    for clash in &report.key_clashes {
        tracing::warn!(
            account = %clash.account_id,
            kind = clash.kind.as_str(),
            kept = %clash.kept,
            keyed_apart = %clash.keyed_apart,
            "look-alike identities: {clash}"
        );
    }
}

/// Sets each row's key with `update`, which binds the row's id as `$1` and its key as `$2`.
async fn write_keys(
    transaction: &mut Transaction<'static, Db>,
    update: &str,
    keys: &[(Uuid, String)],
) -> StoreResult<()> {
    for (id, key) in keys {
        sqlx::query(sqlx::AssertSqlSafe(update))
            .bind(id)
            .bind(key)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// Gives `rows` (their order decides which of two look-alikes keeps the key) their new unique
/// keys of `kind` with `update`, and returns the look-alikes keyed apart. The keys are written
/// in two steps: first every changing row is parked on a key of its own, then each gets its
/// new key. Writing the new keys directly could briefly give one row a key another row still
/// holds and is about to leave, which the unique index refuses.
pub(super) async fn write_unique_keys(
    transaction: &mut Transaction<'static, Db>,
    update: &str,
    rows: &[UniqueKeyRow],
    kind: KeyKind,
) -> StoreResult<Vec<KeyClash>> {
    let (changes, clashes) = assign_unique_keys(rows, kind);
    let parked: Vec<(Uuid, String)> = changes
        .iter()
        .map(|(id, _)| (*id, parking_key(*id)))
        .collect();
    write_keys(transaction, update, &parked).await?;
    write_keys(transaction, update, &changes).await?;
    Ok(clashes)
}

#[derive(FromRow)]
pub(super) struct UserKeysRow {
    id: Uuid,
    account_id: String,
    user_name: String,
    user_name_key: String,
    display_name: Option<String>,
    display_name_key: Option<String>,
    family_name: Option<String>,
    family_name_key: Option<String>,
}

pub(super) async fn refold_scim_users(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<Vec<KeyClash>> {
    let rows: Vec<UserKeysRow> = sqlx::query_as(
        "SELECT id, account_id, user_name, user_name_key, display_name, display_name_key, \
         family_name, family_name_key FROM scim_users ORDER BY account_id, created_at, id",
    )
    .fetch_all(&mut **transaction)
    .await?;
    for row in &rows {
        let display_name_key = row.display_name.as_deref().map(case_insensitive_key);
        let family_name_key = row.family_name.as_deref().map(case_insensitive_key);
        if display_name_key != row.display_name_key || family_name_key != row.family_name_key {
            sqlx::query(
                "UPDATE scim_users SET display_name_key = $2, family_name_key = $3 WHERE id = $1",
            )
            .bind(row.id)
            .bind(display_name_key)
            .bind(family_name_key)
            .execute(&mut **transaction)
            .await?;
        }
    }
    let unique: Vec<UniqueKeyRow> = rows
        .into_iter()
        .map(|row| UniqueKeyRow {
            account_id: row.account_id,
            id: row.id,
            value: row.user_name,
            key: row.user_name_key,
        })
        .collect();
    write_unique_keys(
        transaction,
        "UPDATE scim_users SET user_name_key = $2 WHERE id = $1",
        &unique,
        KeyKind::UserName,
    )
    .await
}

#[derive(FromRow)]
pub(super) struct PersonEmailKeyRow {
    id: Uuid,
    account_id: String,
    primary_email: String,
    primary_email_key: Option<String>,
}

pub(super) async fn refold_people(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<Vec<KeyClash>> {
    let rows: Vec<PersonEmailKeyRow> = sqlx::query_as(
        "SELECT id, account_id, primary_email, primary_email_key FROM people \
         WHERE primary_email IS NOT NULL ORDER BY account_id, created_at, id",
    )
    .fetch_all(&mut **transaction)
    .await?;
    let unique: Vec<UniqueKeyRow> = rows
        .into_iter()
        .map(|row| UniqueKeyRow {
            account_id: row.account_id,
            id: row.id,
            value: row.primary_email,
            key: row.primary_email_key.unwrap_or_default(),
        })
        .collect();
    write_unique_keys(
        transaction,
        "UPDATE people SET primary_email_key = $2 WHERE id = $1",
        &unique,
        KeyKind::PrimaryEmail,
    )
    .await
}

#[derive(FromRow)]
pub(super) struct GroupKeysRow {
    id: Uuid,
    account_id: String,
    display_name: String,
    display_name_key: String,
    unique_name_key: Option<String>,
}

/// Group display names: every `display_name_key` is recomputed, and `unique_name_key` (held by
/// each group whose name is its own, migration 0020) follows it. When a stronger fold makes two
/// such groups of an account look alike, the older keeps the claim and the later gives it up
/// (NULL), like the groups that shared a name before names were unique: it stays readable and
/// writable under its name, and is reported for the operator to have it renamed.
pub(super) async fn refold_scim_groups(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<Vec<KeyClash>> {
    let rows: Vec<GroupKeysRow> = sqlx::query_as(
        "SELECT id, account_id, display_name, display_name_key, unique_name_key \
         FROM scim_groups ORDER BY account_id, created_at, id",
    )
    .fetch_all(&mut **transaction)
    .await?;
    let mut display_keys = Vec::new();
    let mut claims: Vec<(Uuid, Option<String>)> = Vec::new();
    let mut holders: HashMap<(String, String), Uuid> = HashMap::new();
    let mut clashes = Vec::new();
    for row in rows {
        let folded = case_insensitive_key(&row.display_name);
        if folded != row.display_name_key {
            display_keys.push((row.id, folded.clone()));
        }
        let Some(claimed) = row.unique_name_key else {
            continue;
        };
        let claim = match holders.get(&(row.account_id.clone(), folded.clone())) {
            Some(&kept) => {
                clashes.push(KeyClash {
                    account_id: row.account_id.clone(),
                    kind: KeyKind::GroupName,
                    kept,
                    keyed_apart: row.id,
                });
                None
            }
            None => {
                holders.insert((row.account_id.clone(), folded.clone()), row.id);
                Some(folded)
            }
        };
        if claim.as_deref() != Some(claimed.as_str()) {
            claims.push((row.id, claim));
        }
    }
    write_keys(
        transaction,
        "UPDATE scim_groups SET display_name_key = $2 WHERE id = $1",
        &display_keys,
    )
    .await?;
    // Every changing claim is let go first, so no group briefly takes a key another still holds.
    for (id, _) in &claims {
        sqlx::query("UPDATE scim_groups SET unique_name_key = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut **transaction)
            .await?;
    }
    let claimed: Vec<(Uuid, String)> = claims
        .into_iter()
        .filter_map(|(id, claim)| claim.map(|key| (id, key)))
        .collect();
    write_keys(
        transaction,
        "UPDATE scim_groups SET unique_name_key = $2 WHERE id = $1",
        &claimed,
    )
    .await?;
    Ok(clashes)
}

#[derive(FromRow)]
pub(super) struct ValueKeyRow {
    scim_user_id: Uuid,
    attribute: String,
    position: i32,
    value: Option<String>,
    value_key: Option<String>,
}

/// The keys of multi-valued attributes (emails and the like) are not unique either; read in
/// batches in primary-key order.
pub(super) async fn refold_scim_user_values(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<()> {
    let mut after: Option<(Uuid, String, i32)> = None;
    loop {
        let query = match &after {
            None => sqlx::query_as::<_, ValueKeyRow>(
                "SELECT scim_user_id, attribute, position, value, value_key FROM scim_user_values \
                 ORDER BY scim_user_id, attribute, position LIMIT $1",
            )
            .bind(VALUE_KEY_BATCH),
            Some((user, attribute, position)) => sqlx::query_as::<_, ValueKeyRow>(
                "SELECT scim_user_id, attribute, position, value, value_key FROM scim_user_values \
                 WHERE (scim_user_id, attribute, position) > ($2, $3, $4) \
                 ORDER BY scim_user_id, attribute, position LIMIT $1",
            )
            .bind(VALUE_KEY_BATCH)
            .bind(*user)
            .bind(attribute.clone())
            .bind(*position),
        };
        let rows = query.fetch_all(&mut **transaction).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some((last.scim_user_id, last.attribute.clone(), last.position));
        for row in &rows {
            let folded = row.value.as_deref().map(case_insensitive_key);
            if folded != row.value_key {
                sqlx::query(
                    "UPDATE scim_user_values SET value_key = $4 \
                     WHERE scim_user_id = $1 AND attribute = $2 AND position = $3",
                )
                .bind(row.scim_user_id)
                .bind(&row.attribute)
                .bind(row.position)
                .bind(folded)
                .execute(&mut **transaction)
                .await?;
            }
        }
    }
}

#[derive(FromRow)]
pub(super) struct CustomFieldKeyRow {
    scim_user_id: Uuid,
    field: String,
    value: String,
    value_key: String,
}

/// The keys of custom field values (migration 0020) are not unique either; read in batches in
/// primary-key order, like `scim_user_values`.
pub(super) async fn refold_custom_fields(
    transaction: &mut Transaction<'static, Db>,
) -> StoreResult<()> {
    let mut after: Option<(Uuid, String)> = None;
    loop {
        let query = match &after {
            None => sqlx::query_as::<_, CustomFieldKeyRow>(
                "SELECT scim_user_id, field, value, value_key FROM scim_user_custom_fields \
                 ORDER BY scim_user_id, field LIMIT $1",
            )
            .bind(VALUE_KEY_BATCH),
            Some((user, field)) => sqlx::query_as::<_, CustomFieldKeyRow>(
                "SELECT scim_user_id, field, value, value_key FROM scim_user_custom_fields \
                 WHERE (scim_user_id, field) > ($2, $3) ORDER BY scim_user_id, field LIMIT $1",
            )
            .bind(VALUE_KEY_BATCH)
            .bind(*user)
            .bind(field.clone()),
        };
        let rows = query.fetch_all(&mut **transaction).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some((last.scim_user_id, last.field.clone()));
        for row in &rows {
            let folded = case_insensitive_key(&row.value);
            if folded != row.value_key {
                sqlx::query(
                    "UPDATE scim_user_custom_fields SET value_key = $3 \
                     WHERE scim_user_id = $1 AND field = $2",
                )
                .bind(row.scim_user_id)
                .bind(&row.field)
                .bind(folded)
                .execute(&mut **transaction)
                .await?;
            }
        }
    }
}
