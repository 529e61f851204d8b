// The SQL both backends share, compiled once per backend by `include!` from `sqlite.rs` and
// `postgres.rs`. Each includer defines `type Db`, a `Backend` struct with a `pool: Pool<Db>`,
// and `Backend::begin_write` (how that backend opens a write transaction). Placeholders are
// `$N`, which both SQLite and PostgreSQL accept.

use sqlx::{FromRow, types::Json};
use uuid::Uuid;

use crate::auth::{Role, RoleSet, ScopeSet, TokenHash};
use crate::domain::{PersonSource, ScimPatchResponse, truncate_to_micros};
use crate::domain::{Delivery, DeliveryAttempt, DeliveryId, Webhook, WebhookId, WebhookNotification};
use crate::store::{
    AttemptRecord, Claim, ClaimedDelivery, ClaimedPolicy, DeliveryFilter, IdempotencyKey, Published, QueueStats,
    Redelivery, WebhookFilter, WorkerId,
    ScimPage, Credential, ListQuery, Listing, SortDirection, SortField, StoreError, StoreResult,
    TokenOwnerFilter,
};

#[derive(FromRow)]
struct AccountRow {
    id: String,
    name: String,
    scim_patch_response: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AccountRow {
    fn into_account(self) -> StoreResult<Account> {
        Ok(Account {
            id: parse_account_id(&self.id)?,
            name: self.name,
            scim_patch_response: ScimPatchResponse::parse(&self.scim_patch_response).ok_or_else(
                || StoreError::Corrupt(format!("scim_patch_response {:?}", self.scim_patch_response)),
            )?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const ACCOUNT_COLUMNS: &str = "id, name, scim_patch_response, created_at, updated_at";

/// A person row, joined with at most one of its roles: a person with three roles comes back
/// as three rows, folded by `fold_people`.
#[derive(FromRow)]
struct PersonRoleRow {
    id: Uuid,
    account_id: String,
    name: String,
    primary_email: Option<String>,
    job_title: Option<String>,
    employee_number: Option<String>,
    work_phone: Option<String>,
    mobile_phone: Option<String>,
    disabled: bool,
    source: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    role: Option<String>,
}

#[derive(FromRow)]
struct TokenRow {
    id: Uuid,
    account_id: String,
    person_id: Uuid,
    name: String,
    description: Option<String>,
    scopes: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn into_token(self) -> StoreResult<PersonalAccessToken> {
        Ok(PersonalAccessToken {
            id: TokenId(self.id),
            account_id: parse_account_id(&self.account_id)?,
            person_id: PersonId(self.person_id),
            name: self.name,
            description: self.description,
            scopes: parse_scopes(&self.scopes)?,
            expires_at: self.expires_at,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[derive(FromRow)]
struct CredentialRow {
    token_id: Uuid,
    secret_hash: Vec<u8>,
    account_id: String,
    person_id: Uuid,
    person_name: String,
    person_disabled: bool,
    scopes: String,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    role: Option<String>,
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    account_id: String,
    name: String,
    object_id: String,
    person_id: Option<Uuid>,
    person_name: Option<String>,
    payload: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
}

fn parse_account_id(raw: &str) -> StoreResult<AccountId> {
    AccountId::parse(raw).map_err(|_| StoreError::Corrupt(format!("account id {raw:?}")))
}

fn parse_scopes(raw: &str) -> StoreResult<ScopeSet> {
    ScopeSet::from_space_separated(raw).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn parse_role(raw: &str) -> StoreResult<Role> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("role {raw:?}")))
}

/// Folds person rows joined with their roles (ordered so one person's rows are adjacent) into
/// people, keeping the order of first appearance.
fn fold_people(rows: Vec<PersonRoleRow>) -> StoreResult<Vec<Person>> {
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
            disabled: row.disabled,
            source,
            roles: role.into_iter().collect::<RoleSet>(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        });
    }
    Ok(people)
}

/// Maps constraint failures to the store's own errors; everything else stays a database error.
fn classify(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error {
        let constraint = database_error
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| database_error.message().to_owned());
        if database_error.is_unique_violation() {
            return StoreError::Conflict(constraint);
        }
        if database_error.is_foreign_key_violation() {
            return StoreError::MissingReference(constraint);
        }
    }
    StoreError::Database(error)
}

/// `ORDER BY` for a list: the requested fields, then the id so that ties never reorder pages.
fn order_by(sort: &[(SortField, SortDirection)], table: &str) -> String {
    let mut clauses: Vec<String> = sort
        .iter()
        .map(|(field, direction)| {
            let column = match field {
                SortField::Name => "name",
                SortField::CreatedAt => "created_at",
                SortField::UpdatedAt => "updated_at",
                SortField::ExpiresAt => "expires_at",
            };
            let direction = match direction {
                SortDirection::Ascending => "ASC",
                SortDirection::Descending => "DESC",
            };
            format!("{table}.{column} {direction}")
        })
        .collect();
    if sort.is_empty() {
        clauses.push(format!("{table}.created_at ASC"));
    }
    clauses.push(format!("{table}.id ASC"));
    clauses.join(", ")
}

const PERSON_COLUMNS: &str = "p.id, p.account_id, p.name, p.primary_email, p.job_title, \
     p.employee_number, p.work_phone, p.mobile_phone, p.disabled, p.source, p.created_at, \
     p.updated_at, r.role";

const TOKEN_COLUMNS: &str = "id, account_id, person_id, name, description, scopes, expires_at, \
     created_at, last_used_at, revoked_at";

/// An event appended: its id and how many deliveries it fanned out to.
struct Appended {
    id: i64,
    deliveries: u64,
}

async fn append_event(connection: &mut <Db as sqlx::Database>::Connection, event: &NewEvent) -> StoreResult<Appended> {
    let id = insert_event_row(connection, event).await?;
    let deliveries = fan_out(connection, id, event).await?;
    Ok(Appended { id, deliveries })
}

/// Appends the event's row; returns its id.
async fn insert_event_row(connection: &mut <Db as sqlx::Database>::Connection, event: &NewEvent) -> StoreResult<i64> {
    let (person_id, person_name) = match &event.actor {
        Some(actor) => (Some(actor.person_id.0), Some(actor.person_name.as_str())),
        None => (None, None),
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO events (account_id, name, object_id, person_id, person_name, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(event.account_id.as_str())
    .bind(&event.name)
    .bind(&event.object_id)
    .bind(person_id)
    .bind(person_name)
    .bind(Json(&event.payload))
    .bind(truncate_to_micros(event.created_at))
    .fetch_one(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(id)
}

async fn insert_roles(
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

async fn insert_person_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: &Person,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO people (id, account_id, name, primary_email, primary_email_key, job_title, \
         employee_number, disabled, source, created_at, updated_at, work_phone, mobile_phone) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(person.id.0)
    .bind(person.account_id.as_str())
    .bind(&person.name)
    .bind(&person.primary_email)
    .bind(person.primary_email.as_deref().map(Person::email_key))
    .bind(&person.job_title)
    .bind(&person.employee_number)
    .bind(person.disabled)
    .bind(person.source.as_str())
    .bind(truncate_to_micros(person.created_at))
    .bind(truncate_to_micros(person.updated_at))
    .bind(&person.work_phone)
    .bind(&person.mobile_phone)
    .execute(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Every field of a person but their roles. An unchanged primary email keeps its key, so a
/// person the key migration keyed apart from a look-alike (`key_fold.rs`) can still be
/// updated; a changed one gets the key of its new value.
async fn update_person_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    person: &Person,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE people SET name = $3, primary_email = $4, \
         primary_email_key = CASE WHEN primary_email = $4 THEN primary_email_key ELSE $5 END, \
         job_title = $6, \
         employee_number = $7, disabled = $8, source = $9, updated_at = $10, work_phone = $11, \
         mobile_phone = $12 WHERE account_id = $1 AND id = $2",
    )
    .bind(person.account_id.as_str())
    .bind(person.id.0)
    .bind(&person.name)
    .bind(&person.primary_email)
    .bind(person.primary_email.as_deref().map(Person::email_key))
    .bind(&person.job_title)
    .bind(&person.employee_number)
    .bind(person.disabled)
    .bind(person.source.as_str())
    .bind(truncate_to_micros(person.updated_at))
    .bind(&person.work_phone)
    .bind(&person.mobile_phone)
    .execute(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(())
}

#[async_trait]
impl Store for Backend {
    async fn migrate(&self) -> StoreResult<MigrationReport> {
        MIGRATOR.run(&self.pool).await?;
        let mut transaction = self.begin_write().await?;
        let report = refold_keys(&mut transaction).await?;
        transaction.commit().await?;
        log_migration_report(&report);
        Ok(report)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_account(&self, account: &Account) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO accounts (id, name, scim_patch_response, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
            .bind(account.id.as_str())
            .bind(&account.name)
            .bind(account.scim_patch_response.as_str())
            .bind(truncate_to_micros(account.created_at))
            .bind(truncate_to_micros(account.updated_at))
            .execute(self.writer())
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        let row: Option<AccountRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1")))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(AccountRow::into_account).transpose()
    }

    async fn update_account(&self, account: &Account) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE accounts SET name = $2, scim_patch_response = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(account.id.as_str())
        .bind(&account.name)
        .bind(account.scim_patch_response.as_str())
        .bind(truncate_to_micros(account.updated_at))
        .execute(self.writer())
        .await
        .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<AccountRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id")))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    async fn insert_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        insert_person_row(&mut transaction, person).await?;
        insert_roles(&mut transaction, person).await?;
        append_event(&mut transaction, event).await?;
        transaction.commit().await?;
        self.deliveries_signal.notify_one();
        Ok(())
    }

    async fn update_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        update_person_row(&mut transaction, person).await?;
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1")
            .bind(person.id.0)
            .execute(&mut *transaction)
            .await?;
        insert_roles(&mut transaction, person).await?;
        append_event(&mut transaction, event).await?;
        notify_credentials_changed(&mut transaction).await?;
        transaction.commit().await?;
        self.deliveries_signal.notify_one();
        Ok(())
    }

    async fn person(&self, account: &AccountId, id: PersonId) -> StoreResult<Option<Person>> {
        let rows: Vec<PersonRoleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM people p LEFT JOIN person_roles r ON r.person_id = p.id \
             WHERE p.account_id = $1 AND p.id = $2"
        )))
        .bind(account.as_str())
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(fold_people(rows)?.pop())
    }

    async fn person_by_email(&self, account: &AccountId, email: &str) -> StoreResult<Option<Person>> {
        let rows: Vec<PersonRoleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM people p LEFT JOIN person_roles r ON r.person_id = p.id \
             WHERE p.account_id = $1 AND p.primary_email_key = $2"
        )))
        .bind(account.as_str())
        .bind(Person::email_key(email))
        .fetch_all(&self.pool)
        .await?;
        Ok(fold_people(rows)?.pop())
    }

    async fn people(&self, account: &AccountId, query: &ListQuery) -> StoreResult<Listing<Person>> {
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_one(&self.pool)
            .await?;
        // Page the people first, then join their roles, so LIMIT counts people, not role rows.
        let page_order = order_by(&query.sort, "people");
        let outer_order = order_by(&query.sort, "p");
        let rows: Vec<PersonRoleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM \
               (SELECT * FROM people WHERE account_id = $1 ORDER BY {page_order} LIMIT $2 OFFSET $3) p \
             LEFT JOIN person_roles r ON r.person_id = p.id ORDER BY {outer_order}, r.role"
        )))
        .bind(account.as_str())
        .bind(i64::from(query.limit))
        .bind(offset_as_i64(query.offset))
        .fetch_all(&self.pool)
        .await?;
        Ok(Listing { items: fold_people(rows)?, total: count_as_u64(total) })
    }

    async fn insert_token(
        &self,
        token: &PersonalAccessToken,
        secret_hash: &TokenHash,
        event: &NewEvent,
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO personal_access_tokens (id, account_id, person_id, name, description, scopes, \
             secret_hash, expires_at, created_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(token.id.0)
        .bind(token.account_id.as_str())
        .bind(token.person_id.0)
        .bind(&token.name)
        .bind(&token.description)
        .bind(token.scopes.to_space_separated())
        .bind(secret_hash.as_bytes().as_slice())
        .bind(truncate_to_micros(token.expires_at))
        .bind(truncate_to_micros(token.created_at))
        .bind(token.last_used_at.map(truncate_to_micros))
        .bind(token.revoked_at.map(truncate_to_micros))
        .execute(&mut *transaction)
        .await
        .map_err(classify)?;
        append_event(&mut transaction, event).await?;
        transaction.commit().await?;
        self.deliveries_signal.notify_one();
        Ok(())
    }

    async fn token(&self, account: &AccountId, id: TokenId) -> StoreResult<Option<PersonalAccessToken>> {
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM personal_access_tokens WHERE account_id = $1 AND id = $2"
        )))
        .bind(account.as_str())
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TokenRow::into_token).transpose()
    }

    async fn tokens(
        &self,
        account: &AccountId,
        owner: TokenOwnerFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<PersonalAccessToken>> {
        let owner_id = match owner {
            TokenOwnerFilter::Everyone => None,
            TokenOwnerFilter::Person(person_id) => Some(person_id.0),
        };
        let owner_clause = "account_id = $1 AND ($2 IS NULL OR person_id = $2)";
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM personal_access_tokens WHERE {owner_clause}"
        )))
        .bind(account.as_str())
        .bind(owner_id)
        .fetch_one(&self.pool)
        .await?;
        let order = order_by(&query.sort, "personal_access_tokens");
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM personal_access_tokens WHERE {owner_clause} \
             ORDER BY {order} LIMIT $3 OFFSET $4"
        )))
        .bind(account.as_str())
        .bind(owner_id)
        .bind(i64::from(query.limit))
        .bind(offset_as_i64(query.offset))
        .fetch_all(&self.pool)
        .await?;
        let items = rows.into_iter().map(TokenRow::into_token).collect::<StoreResult<_>>()?;
        Ok(Listing { items, total: count_as_u64(total) })
    }

    async fn revoke_token(
        &self,
        account: &AccountId,
        id: TokenId,
        revoked_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE personal_access_tokens SET revoked_at = $3 \
             WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(account.as_str())
        .bind(id.0)
        .bind(truncate_to_micros(revoked_at))
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if changed {
            append_event(&mut transaction, event).await?;
            notify_credentials_changed(&mut transaction).await?;
        }
        transaction.commit().await?;
        self.deliveries_signal.notify_one();
        Ok(changed)
    }

    async fn credential(&self, secret_hash: &TokenHash) -> StoreResult<Option<Credential>> {
        let rows: Vec<CredentialRow> = sqlx::query_as(
            "SELECT t.id AS token_id, t.secret_hash, t.account_id, t.person_id, p.name AS person_name, \
             p.disabled AS person_disabled, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, r.role \
             FROM personal_access_tokens t \
             JOIN people p ON p.id = t.person_id \
             LEFT JOIN person_roles r ON r.person_id = p.id \
             WHERE t.secret_hash = $1",
        )
        .bind(secret_hash.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await?;
        let mut roles = RoleSet::default();
        for row in &rows {
            if let Some(role) = &row.role {
                roles.extend(Some(parse_role(role)?));
            }
        }
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(Credential {
            token_id: TokenId(row.token_id),
            secret_hash: TokenHash::from_bytes(&row.secret_hash)
                .ok_or_else(|| StoreError::Corrupt("token hash length".to_owned()))?,
            account_id: parse_account_id(&row.account_id)?,
            person_id: PersonId(row.person_id),
            person_name: row.person_name,
            person_disabled: row.person_disabled,
            roles,
            scopes: parse_scopes(&row.scopes)?,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
        }))
    }

    async fn touch_token(
        &self,
        id: TokenId,
        used_at: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE personal_access_tokens SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(id.0)
        .bind(truncate_to_micros(used_at))
        .bind(truncate_to_micros(unless_used_after))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    fn dialect(&self) -> scim_sql::Dialect {
        DIALECT
    }

    async fn insert_scim_user(
        &self,
        user: &ScimUserRecord,
        person: PersonWrite<'_>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let result = insert_scim_user(self.begin_write().await?, user, person, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn replace_scim_user(
        &self,
        user: &ScimUserRecord,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let result = replace_scim_user(self.begin_write().await?, user, expected_version, person, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn delete_scim_user(
        &self,
        account: &AccountId,
        id: ScimUserId,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let transaction = self.begin_write().await?;
        let result = delete_scim_user(transaction, account, id, expected_version, person, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn scim_user(&self, account: &AccountId, id: ScimUserId) -> StoreResult<Option<ScimUserRecord>> {
        scim_user(&self.pool, account, id).await
    }

    async fn scim_user_of_person(&self, account: &AccountId, person: PersonId) -> StoreResult<Option<ScimUserRecord>> {
        scim_user_of_person(&self.pool, account, person).await
    }

    async fn scim_users(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimUserRecord>> {
        scim_users(&self.pool, account, page).await
    }

    async fn insert_scim_group(
        &self,
        group: &ScimGroupRecord,
        members: &[NewMember],
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let result = insert_scim_group(self.begin_write().await?, group, members, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn replace_scim_group(
        &self,
        group: &ScimGroupRecord,
        expected_version: i64,
        members: &MembershipChange,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let result = replace_scim_group(self.begin_write().await?, group, expected_version, members, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn delete_scim_group(
        &self,
        account: &AccountId,
        id: ScimGroupId,
        expected_version: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let result = delete_scim_group(self.begin_write().await?, account, id, expected_version, events).await;
        if result.is_ok() {
            self.deliveries_signal.notify_one();
        }
        result
    }

    async fn scim_group(&self, account: &AccountId, id: ScimGroupId) -> StoreResult<Option<ScimGroupRecord>> {
        scim_group(&self.pool, account, id).await
    }

    async fn scim_groups(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimGroupRecord>> {
        scim_groups(&self.pool, account, page).await
    }

    async fn scim_group_members(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, GroupMember)>> {
        scim_group_members(&self.pool, account, groups).await
    }

    async fn scim_group_member_page(
        &self,
        account: &AccountId,
        group: ScimGroupId,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Listing<GroupMember>> {
        scim_group_member_page(&self.pool, account, group, offset, limit).await
    }

    async fn scim_group_member_counts(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, u64)>> {
        scim_group_member_counts(&self.pool, account, groups).await
    }

    async fn scim_member_kinds(&self, account: &AccountId, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, MemberType)>> {
        scim_member_kinds(&self.pool, account, ids).await
    }

    fn follow_credential_changes(&self, on_change: std::sync::Arc<dyn Fn() + Send + Sync>) {
        follow_credential_changes(&self.pool, on_change);
    }

    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        verification_hash: &[u8],
        secret: &WebhookSecretRecord,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        insert_webhook(self.begin_write().await?, webhook, verification_hash, secret, events).await?;
        self.deliveries_signal.notify_one();
        Ok(())
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        new_verification_hash: Option<&[u8]>,
        reset_failures: bool,
        events: &[NewEvent],
    ) -> StoreResult<bool> {
        let updated = update_webhook(self.begin_write().await?, webhook, new_verification_hash, reset_failures, events).await?;
        self.deliveries_signal.notify_one();
        Ok(updated)
    }

    async fn webhook_awaiting_verification(&self, hash: &[u8]) -> StoreResult<Option<Webhook>> {
        webhook_awaiting_verification(&self.pool, hash).await
    }

    async fn verify_webhook(&self, webhook: &Webhook, hash: &[u8], events: &[NewEvent]) -> StoreResult<bool> {
        let verified = verify_webhook(self.begin_write().await?, webhook, hash, events).await?;
        self.deliveries_signal.notify_one();
        Ok(verified)
    }

    async fn delete_webhook(&self, account: &AccountId, id: WebhookId, events: &[NewEvent]) -> StoreResult<bool> {
        let deleted = delete_webhook(self.begin_write().await?, account, id, events).await?;
        self.deliveries_signal.notify_one();
        Ok(deleted)
    }

    async fn webhook(&self, account: &AccountId, id: WebhookId) -> StoreResult<Option<Webhook>> {
        webhook(&self.pool, account, id).await
    }

    async fn webhook_secrets(&self, webhook: WebhookId, now: DateTime<Utc>) -> StoreResult<Vec<WebhookSecretRecord>> {
        webhook_secrets(&self.pool, webhook, now).await
    }

    async fn rotate_webhook_secret(
        &self,
        secret: &WebhookSecretRecord,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        rotate_webhook_secret(self.begin_write().await?, secret, previous_until, now, events).await
    }

    async fn insert_console_session(&self, session: &ConsoleSession, idle_before: DateTime<Utc>) -> StoreResult<()> {
        insert_console_session(self.begin_write().await?, session, idle_before).await
    }

    async fn console_session(&self, session_hash: &[u8]) -> StoreResult<Option<ConsoleSession>> {
        console_session(&self.pool, session_hash).await
    }

    async fn touch_console_session(
        &self,
        session_hash: &[u8],
        seen_at: DateTime<Utc>,
        unless_seen_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        touch_console_session(self.writer(), session_hash, seen_at, unless_seen_after).await
    }

    async fn delete_console_session(&self, session_hash: &[u8]) -> StoreResult<bool> {
        delete_console_session(self.writer(), session_hash).await
    }

    async fn insert_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        key: &PolicyKey,
        links: &[WebhookId],
        events: &[NewEvent],
    ) -> StoreResult<Vec<WebhookId>> {
        let unknown = insert_webhook_policy(self.begin_write().await?, policy, key, links, events).await?;
        self.deliveries_signal.notify_one();
        Ok(unknown)
    }

    async fn update_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        links: Option<&[WebhookId]>,
        events: &[NewEvent],
    ) -> StoreResult<Option<Vec<WebhookId>>> {
        let updated = update_webhook_policy(self.begin_write().await?, policy, links, events).await?;
        self.deliveries_signal.notify_one();
        Ok(updated)
    }

    async fn delete_webhook_policy(&self, account: &AccountId, id: WebhookPolicyId, events: &[NewEvent]) -> StoreResult<Option<u64>> {
        delete_webhook_policy(self.begin_write().await?, account, id, events).await
    }

    async fn webhook_policy(&self, account: &AccountId, id: WebhookPolicyId) -> StoreResult<Option<WebhookPolicy>> {
        webhook_policy(&self.pool, account, id).await
    }

    async fn webhook_policies(&self, account: &AccountId, filter: WebhookFilter, query: &ListQuery) -> StoreResult<Listing<WebhookPolicy>> {
        webhook_policies(&self.pool, account, filter, query).await
    }

    async fn policy_links(&self, account: &AccountId, policies: &[WebhookPolicyId]) -> StoreResult<Vec<(WebhookPolicyId, WebhookId)>> {
        policy_links(&self.pool, account, policies).await
    }

    async fn insert_policy_key(&self, key: &PolicyKey, retire_before: DateTime<Utc>, events: &[NewEvent]) -> StoreResult<()> {
        insert_policy_key(self.begin_write().await?, key, retire_before, events).await
    }

    async fn policy_keys(&self, policies: &[WebhookPolicyId]) -> StoreResult<Vec<PolicyKey>> {
        policy_keys(&self.pool, policies).await
    }

    async fn webhooks(&self, account: &AccountId, filter: WebhookFilter, query: &ListQuery) -> StoreResult<Listing<Webhook>> {
        webhooks(&self.pool, account, filter, query).await
    }

    async fn deliveries(&self, account: &AccountId, filter: &DeliveryFilter, query: &ListQuery) -> StoreResult<Listing<Delivery>> {
        deliveries(&self.pool, account, filter, query).await
    }

    async fn delivery_page(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        before: Option<(DateTime<Utc>, DeliveryId)>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        delivery_page(&self.pool, account, filter, before, limit).await
    }

    async fn count_deliveries(&self, account: &AccountId, filter: &DeliveryFilter, up_to: u64) -> StoreResult<u64> {
        count_deliveries(&self.pool, account, filter, up_to).await
    }

    async fn delivery(&self, account: &AccountId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        delivery(&self.pool, account, id).await
    }

    async fn delivery_attempts(&self, account: &AccountId, id: DeliveryId) -> StoreResult<Vec<DeliveryAttempt>> {
        delivery_attempts(&self.pool, account, id).await
    }

    async fn redeliver(&self, account: &AccountId, originals: &[DeliveryId], now: DateTime<Utc>) -> StoreResult<Vec<Redelivery>> {
        let made = redeliver(self.begin_write().await?, account, originals, now).await?;
        self.deliveries_signal.notify_one();
        Ok(made)
    }

    async fn failed_deliveries_since(
        &self,
        account: &AccountId,
        webhook: WebhookId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryId>> {
        failed_deliveries_since(&self.pool, account, webhook, since, limit).await
    }

    async fn claim_due_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        claim_due_deliveries(self.writer(), &self.pool, claim).await
    }

    async fn release_deliveries(
        &self,
        worker: WorkerId,
        ids: &[DeliveryId],
        park: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        release_deliveries(self.writer(), worker, ids, park, now).await
    }

    async fn record_attempts(
        &self,
        worker: WorkerId,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut leases = Leases::Held;
        let (recorded, wake) = loop {
            let transaction = self.begin_write().await?;
            match record_attempts(transaction, worker, records, now, leases).await? {
                Recording::Done { recorded, wake } => break (recorded, wake),
                Recording::Redo => leases = Leases::Uncertain,
            }
        };
        if wake {
            self.deliveries_signal.notify_one();
        }
        Ok(recorded)
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<QueueStats> {
        queue_stats(&self.pool, now).await
    }

    fn deliveries_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.deliveries_signal.clone()
    }

    async fn notifications(&self, account: &AccountId, query: &ListQuery) -> StoreResult<Listing<WebhookNotification>> {
        notifications(&self.pool, account, query).await
    }

    async fn claim_unsent_notifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookNotification>> {
        claim_unsent_notifications(self.writer(), now, lease_until, limit).await
    }

    async fn mark_notification(&self, id: Uuid, sent_at: Option<DateTime<Utc>>, send_error: Option<&str>) -> StoreResult<()> {
        mark_notification(self.writer(), id, sent_at, send_error).await
    }

    async fn publish_event(&self, event: &NewEvent, key: Option<&IdempotencyKey>) -> StoreResult<Published> {
        if key.is_none() && event.name != VERIFY_EVENT {
            return self.publisher.publish(event).await;
        }
        let published = publish_event(self.begin_write().await?, event, key).await?;
        self.deliveries_signal.notify_one();
        Ok(published)
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        purge_idempotency_keys(self.writer(), before).await
    }

    async fn events_after(&self, account: &AccountId, after_id: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, account_id, name, object_id, person_id, person_name, payload, created_at \
             FROM events WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(account.as_str())
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let actor = match (row.person_id, row.person_name) {
                    (Some(person_id), Some(person_name)) => {
                        Some(Actor { person_id: PersonId(person_id), person_name })
                    }
                    _ => None,
                };
                Ok(Event {
                    id: row.id,
                    account_id: parse_account_id(&row.account_id)?,
                    name: row.name,
                    object_id: row.object_id,
                    actor,
                    payload: row.payload.0,
                    created_at: row.created_at,
                })
            })
            .collect()
    }
}

fn offset_as_i64(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

fn count_as_u64(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}
