//! SCIM Users and the people they provision.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, types::Json};
use uuid::Uuid;

use crate::domain::{
    AccountId, NewEvent, Person, PersonId, ScimUserId, ScimUserRecord, case_insensitive_key,
    truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{Listing, PersonWrite, ScimPage, ScimUserStore, StoreResult};

use super::people::{insert_person_row, insert_roles, update_person_row};
use super::scim_groups::remove_from_groups;
use super::scim_page::filtered_page;
use super::{Backend, Db};
use super::{RecordRow, classify, delete_record, parse_account_id, record_where};

#[derive(FromRow)]
pub(super) struct ScimUserRow {
    id: Uuid,
    account_id: String,
    person_id: Uuid,
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    title: Option<String>,
    user_type: Option<String>,
    active: bool,
    employee_number: Option<String>,
    department: Option<String>,
    organization: Option<String>,
    site: Option<String>,
    location: Option<String>,
    support_id: Option<String>,
    manager_id: Option<Uuid>,
    password_hash: Option<String>,
    resource: Json<serde_json::Value>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RecordRow for ScimUserRow {
    type Record = ScimUserRecord;
    const TABLE: &'static str = "scim_users";
    const ALIAS: &'static str = "u";
    const COLUMNS: &'static str = "id, account_id, person_id, user_name, external_id, \
        display_name, given_name, family_name, title, user_type, active, employee_number, \
        department, organization, site, location, support_id, manager_id, password_hash, \
        resource, version, created_at, updated_at";

    fn into_record(self) -> StoreResult<ScimUserRecord> {
        Ok(ScimUserRecord {
            id: ScimUserId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            person_id: PersonId(self.person_id),
            user_name: self.user_name,
            external_id: self.external_id,
            display_name: self.display_name,
            given_name: self.given_name,
            family_name: self.family_name,
            title: self.title,
            user_type: self.user_type,
            active: self.active,
            employee_number: self.employee_number,
            department: self.department,
            organization: self.organization,
            site: self.site,
            location: self.location,
            support_id: self.support_id,
            manager_id: self.manager_id.map(ScimUserId),
            password_hash: self.password_hash,
            resource: self.resource.0,
            values: Vec::new(),
            custom_fields: Vec::new(),
            groups: Vec::new(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(super) async fn write_person(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: PersonWrite<'_>,
) -> StoreResult<()> {
    match person {
        PersonWrite::Insert(person) => {
            insert_person_row(connection, person).await?;
            insert_roles(connection, person).await
        }
        PersonWrite::Update(person) => update_person_row(connection, person).await,
    }
}

/// Writes the columns of a SCIM User; `INSERT` or, with `replace`, `UPDATE` at the version.
pub(super) async fn write_scim_user_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    user: &ScimUserRecord,
    expected_version: Option<i64>,
) -> StoreResult<bool> {
    let sql = match expected_version {
        None => {
            "INSERT INTO scim_users (account_id, id, person_id, user_name, user_name_key, \
             external_id, display_name, display_name_key, given_name, family_name, \
             family_name_key, title, user_type, active, employee_number, department, \
             organization, manager_id, password_hash, resource, version, created_at, updated_at, \
             site, location, support_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $25, $26, $27)"
        }
        // An unchanged userName keeps its key, so a User the key migration keyed apart from a
        // look-alike (`key_fold.rs`) can still be deactivated or updated; a new one is keyed.
        Some(_) => {
            "UPDATE scim_users SET person_id = $3, user_name = $4, \
             user_name_key = CASE WHEN user_name = $4 THEN user_name_key ELSE $5 END, \
             external_id = $6, display_name = $7, display_name_key = $8, given_name = $9, \
             family_name = $10, family_name_key = $11, title = $12, user_type = $13, \
             active = $14, employee_number = $15, department = $16, organization = $17, \
             manager_id = $18, password_hash = $19, resource = $20, version = $21, \
             created_at = $22, updated_at = $23, site = $25, location = $26, \
             support_id = $27 \
             WHERE account_id = $1 AND id = $2 AND version = $24"
        }
    };
    let result = sqlx::query(sql)
        .bind(user.account_id.as_str())
        .bind(user.id.0)
        .bind(user.person_id.0)
        .bind(&user.user_name)
        .bind(case_insensitive_key(&user.user_name))
        .bind(&user.external_id)
        .bind(&user.display_name)
        .bind(user.display_name.as_deref().map(case_insensitive_key))
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(user.family_name.as_deref().map(case_insensitive_key))
        .bind(&user.title)
        .bind(&user.user_type)
        .bind(user.active)
        .bind(&user.employee_number)
        .bind(&user.department)
        .bind(&user.organization)
        .bind(user.manager_id.map(|manager| manager.0))
        .bind(&user.password_hash)
        .bind(Json(&user.resource))
        .bind(user.version)
        .bind(truncate_to_micros(user.created_at))
        .bind(truncate_to_micros(user.updated_at))
        .bind(expected_version)
        .bind(&user.site)
        .bind(&user.location)
        .bind(&user.support_id)
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(result.rows_affected() == 1)
}

/// Replaces the filter rows of a SCIM User with those of `user.values`.
pub(super) async fn write_scim_values(
    connection: &mut <Db as sqlx::Database>::Connection,
    user: &ScimUserRecord,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM scim_user_values WHERE scim_user_id = $1")
        .bind(user.id.0)
        .execute(&mut *connection)
        .await?;
    for value in &user.values {
        sqlx::query(
            "INSERT INTO scim_user_values (scim_user_id, account_id, attribute, position, value, \
             value_key, type, is_primary, display) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(user.id.0)
        .bind(user.account_id.as_str())
        .bind(&value.attribute)
        .bind(value.position)
        .bind(&value.value)
        .bind(value.value.as_deref().map(case_insensitive_key))
        .bind(&value.value_type)
        .bind(value.primary)
        .bind(&value.display)
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    }
    Ok(())
}

/// Replaces the custom field rows of a SCIM User with those of `user.custom_fields`.
pub(super) async fn write_custom_fields(
    connection: &mut <Db as sqlx::Database>::Connection,
    user: &ScimUserRecord,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM scim_user_custom_fields WHERE scim_user_id = $1")
        .bind(user.id.0)
        .execute(&mut *connection)
        .await?;
    for field in &user.custom_fields {
        sqlx::query(
            "INSERT INTO scim_user_custom_fields (scim_user_id, account_id, field, value, \
             value_key) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.0)
        .bind(user.account_id.as_str())
        .bind(&field.field)
        .bind(&field.value)
        .bind(case_insensitive_key(&field.value))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    }
    Ok(())
}

#[async_trait]
impl ScimUserStore for Backend {
    async fn insert_scim_user(
        &self,
        user: &ScimUserRecord,
        person: PersonWrite<'_>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        write_person(&mut transaction, person).await?;
        write_scim_user_row(&mut transaction, user, None).await?;
        write_scim_values(&mut transaction, user).await?;
        write_custom_fields(&mut transaction, user).await?;
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, events).await
    }

    async fn replace_scim_user(
        &self,
        user: &ScimUserRecord,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !write_scim_user_row(&mut transaction, user, Some(expected_version)).await? {
            return Ok(false);
        }
        write_scim_values(&mut transaction, user).await?;
        write_custom_fields(&mut transaction, user).await?;
        update_person_row(&mut transaction, person).await?;
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn delete_scim_user(
        &self,
        account: &AccountId,
        id: ScimUserId,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        if !delete_record::<ScimUserRow>(&mut transaction, account, id.0, Some(expected_version))
            .await?
        {
            return Ok(false);
        }
        remove_from_groups(&mut transaction, account, id.0).await?;
        sqlx::query(
            "UPDATE scim_users SET manager_id = NULL WHERE account_id = $1 AND manager_id = $2",
        )
        .bind(account.as_str())
        .bind(id.0)
        .execute(&mut *transaction)
        .await?;
        update_person_row(&mut transaction, person).await?;
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, events).await?;
        Ok(true)
    }

    async fn scim_user(
        &self,
        account: &AccountId,
        id: ScimUserId,
    ) -> StoreResult<Option<ScimUserRecord>> {
        record_where::<ScimUserRow>(self.pool(), account, "id", id.0).await
    }

    async fn scim_user_of_person(
        &self,
        account: &AccountId,
        person: PersonId,
    ) -> StoreResult<Option<ScimUserRecord>> {
        record_where::<ScimUserRow>(self.pool(), account, "person_id", person.0).await
    }

    async fn scim_users(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimUserRecord>> {
        filtered_page::<ScimUserRow>(self.pool(), account, page).await
    }
}
