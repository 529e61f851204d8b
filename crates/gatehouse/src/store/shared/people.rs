//! People and their roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::{FromRow, Pool};
use uuid::Uuid;

use crate::auth::{Role, RoleSet};
use crate::domain::{AccountId, NewEvent, Person, PersonId, PersonSource, truncate_to_micros};
use crate::store::dialect::Dialect;
use crate::store::{ListQuery, Listing, PeopleStore, StoreError, StoreResult};

use super::{Backend, Db};
use super::{classify, count_as_u64, offset_as_i64, order_by, parse_account_id};

/// A person row, joined with at most one of its roles: a person with three roles comes back
/// as three rows, folded by `fold_people`.
#[derive(FromRow)]
pub(super) struct PersonRoleRow {
    id: Uuid,
    account_id: String,
    name: String,
    primary_email: Option<String>,
    job_title: Option<String>,
    employee_number: Option<String>,
    work_phone: Option<String>,
    mobile_phone: Option<String>,
    vip: bool,
    disabled: bool,
    source: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    role: Option<String>,
}

pub(super) fn parse_role(raw: &str) -> StoreResult<Role> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("role {raw:?}")))
}

/// Folds person rows joined with their roles (ordered so one person's rows are adjacent) into
/// people, keeping the order of first appearance.
pub(super) fn fold_people(rows: Vec<PersonRoleRow>) -> StoreResult<Vec<Person>> {
    let mut people: Vec<Person> = Vec::new();
    for row in rows {
        let role = row.role.as_deref().map(parse_role).transpose()?;
        if let Some(last) = people.last_mut().filter(|person| person.id.0 == row.id) {
            last.roles.extend(role);
            continue;
        }
        let source = PersonSource::parse(&row.source)
            .ok_or_else(|| StoreError::Corrupt(format!("person source {:?}", row.source)))?;
        people.push(Person {
            id: PersonId(row.id),
            account_id: parse_account_id(&row.account_id)?,
            name: row.name,
            primary_email: row.primary_email,
            job_title: row.job_title,
            employee_number: row.employee_number,
            work_phone: row.work_phone,
            mobile_phone: row.mobile_phone,
            vip: row.vip,
            disabled: row.disabled,
            source,
            roles: role.into_iter().collect::<RoleSet>(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        });
    }
    Ok(people)
}

pub(super) const PERSON_COLUMNS: &str = "p.id, p.account_id, p.name, p.primary_email, p.job_title, \
     p.employee_number, p.work_phone, p.mobile_phone, p.vip, p.disabled, p.source, \
     p.created_at, p.updated_at, r.role";

pub(super) async fn insert_roles(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: &Person,
) -> StoreResult<()> {
    for role in person.roles.iter() {
        sqlx::query("INSERT INTO person_roles (person_id, account_id, role) VALUES ($1, $2, $3)")
            .bind(person.id.0)
            .bind(person.account_id.as_str())
            .bind(role.as_str())
            .execute(&mut *connection)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// Binds a person's id and account, then every field a write sets alike, as `$1` to `$12`: the
/// INSERT and the UPDATE of a person start the same.
fn bind_person<'q>(
    query: Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    person: &Person,
) -> Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    query
        .bind(person.id.0)
        .bind(person.account_id.as_str())
        .bind(&person.name)
        .bind(&person.primary_email)
        .bind(person.primary_email.as_deref().map(Person::email_key))
        .bind(&person.job_title)
        .bind(&person.employee_number)
        .bind(person.disabled)
        .bind(person.source.as_str())
        .bind(&person.work_phone)
        .bind(&person.mobile_phone)
        .bind(person.vip)
}

pub(super) async fn insert_person_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: &Person,
) -> StoreResult<()> {
    let insert = sqlx::query(
        "INSERT INTO people (id, account_id, name, primary_email, primary_email_key, job_title, \
         employee_number, disabled, source, work_phone, mobile_phone, vip, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    );
    bind_person(insert, person)
        .bind(truncate_to_micros(person.created_at))
        .bind(truncate_to_micros(person.updated_at))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Every field of a person but their roles. An unchanged primary email keeps its key, so a
/// person the key migration keyed apart from a look-alike (`key_fold.rs`) can still be
/// updated; a changed one gets the key of its new value.
pub(super) async fn update_person_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: &Person,
) -> StoreResult<()> {
    let update = sqlx::query(
        "UPDATE people SET name = $3, primary_email = $4, \
         primary_email_key = CASE WHEN primary_email = $4 THEN primary_email_key ELSE $5 END, \
         job_title = $6, \
         employee_number = $7, disabled = $8, source = $9, work_phone = $10, \
         mobile_phone = $11, vip = $12, updated_at = $13 WHERE id = $1 AND account_id = $2",
    );
    bind_person(update, person)
        .bind(truncate_to_micros(person.updated_at))
        .execute(&mut *connection)
        .await
        .map_err(classify)?;
    Ok(())
}

/// The addresses exception notices go to when a webhook names none: its account's enabled
/// account administrators with an email.
pub(super) async fn administrator_emails(
    connection: &mut <Db as sqlx::Database>::Connection,
    account: &AccountId,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT p.primary_email FROM people p JOIN person_roles r ON r.person_id = p.id \
         WHERE r.account_id = $1 AND r.role = 'account_administrator' AND p.disabled = FALSE \
         AND p.primary_email IS NOT NULL ORDER BY p.primary_email",
    )
    .bind(account.as_str())
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows.into_iter().map(|(email,)| email).collect())
}

/// The account's person whose `column` is `key`, with their roles.
async fn person_where<K>(
    pool: &Pool<Db>,
    account: &AccountId,
    column: &str,
    key: K,
) -> StoreResult<Option<Person>>
where
    K: for<'q> sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send,
{
    let rows: Vec<PersonRoleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM people p LEFT JOIN person_roles r ON r.person_id = p.id \
         WHERE p.account_id = $1 AND p.{column} = $2"
    )))
    .bind(account.as_str())
    .bind(key)
    .fetch_all(pool)
    .await?;
    Ok(fold_people(rows)?.pop())
}

#[async_trait]
impl PeopleStore for Backend {
    async fn insert_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        insert_person_row(&mut transaction, person).await?;
        insert_roles(&mut transaction, person).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await
    }

    async fn update_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        update_person_row(&mut transaction, person).await?;
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1")
            .bind(person.id.0)
            .execute(&mut *transaction)
            .await?;
        insert_roles(&mut transaction, person).await?;
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await
    }

    async fn person(&self, account: &AccountId, id: PersonId) -> StoreResult<Option<Person>> {
        person_where(self.pool(), account, "id", id.0).await
    }

    async fn person_by_email(
        &self,
        account: &AccountId,
        email: &str,
    ) -> StoreResult<Option<Person>> {
        person_where(
            self.pool(),
            account,
            "primary_email_key",
            Person::email_key(email),
        )
        .await
    }

    async fn people(
        &self,
        account: &AccountId,
        search: Option<&str>,
        query: &ListQuery,
    ) -> StoreResult<Listing<Person>> {
        // A substring of the folded email key, or of the lower-cased name (Unicode on
        // PostgreSQL; SQLite's LOWER folds ASCII letters only).
        let email_pattern = search.map(|text| like_pattern(&scim::text::fold_substring(text)));
        let name_pattern = search.map(|text| like_pattern(&text.to_lowercase()));
        const MATCHES: &str = "account_id = $1 AND ($2 IS NULL OR primary_email_key LIKE $2 \
             ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\')";
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM people WHERE {MATCHES}"
        )))
        .bind(account.as_str())
        .bind(&email_pattern)
        .bind(&name_pattern)
        .fetch_one(self.pool())
        .await?;
        // Page the people first, then join their roles, so LIMIT counts people, not role rows.
        let page_order = order_by(&query.sort, "people");
        let outer_order = order_by(&query.sort, "p");
        let rows: Vec<PersonRoleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM \
               (SELECT * FROM people WHERE {MATCHES} ORDER BY {page_order} LIMIT $4 OFFSET $5) p \
             LEFT JOIN person_roles r ON r.person_id = p.id ORDER BY {outer_order}, r.role"
        )))
        .bind(account.as_str())
        .bind(&email_pattern)
        .bind(&name_pattern)
        .bind(i64::from(query.limit))
        .bind(offset_as_i64(query.offset))
        .fetch_all(self.pool())
        .await?;
        Ok(Listing {
            items: fold_people(rows)?,
            total: count_as_u64(total),
        })
    }
}

/// `%text%` for LIKE, with LIKE's own characters in `text` escaped by `\`.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}
