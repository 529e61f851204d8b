//! Personal access tokens, and the credential a bearer token authenticates as.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::auth::{RoleSet, ScopeSet, TokenHash};
use crate::domain::{
    AccountId, NewEvent, PersonId, PersonalAccessToken, TokenId, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{
    Credential, ListQuery, Listing, StoreError, StoreResult, TokenOwnerFilter, TokenStore,
};

use super::people::parse_role;
use super::{Backend, Db};
use super::{
    RecordRow, classify, count_as_u64, listing, offset_as_i64, order_by, parse_account_id,
    record_where,
};

#[derive(FromRow)]
pub(super) struct TokenRow {
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

impl RecordRow for TokenRow {
    type Record = PersonalAccessToken;
    const TABLE: &'static str = "personal_access_tokens";
    const ALIAS: &'static str = "t";
    const COLUMNS: &'static str = "id, account_id, person_id, name, description, scopes, \
        expires_at, created_at, last_used_at, revoked_at";

    fn into_record(self) -> StoreResult<PersonalAccessToken> {
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
pub(super) struct CredentialRow {
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

pub(super) fn parse_scopes(raw: &str) -> StoreResult<ScopeSet> {
    ScopeSet::from_space_separated(raw).map_err(|error| StoreError::Corrupt(error.to_string()))
}

impl Backend {
    /// Ends a write to a token: when it `changed` anything, tells every process to drop the
    /// credentials it cached and commits with `event`; otherwise leaves it all unwritten.
    async fn commit_credential_change(
        &self,
        mut transaction: sqlx::Transaction<'static, Db>,
        changed: bool,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        if !changed {
            return Ok(false);
        }
        Backend::notify_credentials_changed(&mut transaction).await?;
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await?;
        Ok(true)
    }
}

#[async_trait]
impl TokenStore for Backend {
    async fn insert_token(
        &self,
        token: &PersonalAccessToken,
        secret_hash: &TokenHash,
        event: &NewEvent,
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO personal_access_tokens (id, account_id, person_id, name, description, \
             scopes, \
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
        self.commit_with_events(transaction, std::slice::from_ref(event))
            .await
    }

    async fn token(
        &self,
        account: &AccountId,
        id: TokenId,
    ) -> StoreResult<Option<PersonalAccessToken>> {
        record_where::<TokenRow>(self.pool(), account, "id", id.0).await
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
        .fetch_one(self.pool())
        .await?;
        let order = order_by(&query.sort, "personal_access_tokens");
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM personal_access_tokens WHERE {owner_clause} \
             ORDER BY {order} LIMIT $3 OFFSET $4",
            TokenRow::COLUMNS
        )))
        .bind(account.as_str())
        .bind(owner_id)
        .bind(i64::from(query.limit))
        .bind(offset_as_i64(query.offset))
        .fetch_all(self.pool())
        .await?;
        listing(rows, count_as_u64(total))
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
        self.commit_credential_change(transaction, changed, event)
            .await
    }

    async fn update_token(
        &self,
        token: &PersonalAccessToken,
        event: &NewEvent,
    ) -> StoreResult<bool> {
        let mut transaction = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE personal_access_tokens SET name = $3, description = $4, scopes = $5 \
             WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(token.account_id.as_str())
        .bind(token.id.0)
        .bind(&token.name)
        .bind(&token.description)
        .bind(token.scopes.to_space_separated())
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        // Narrower scopes take effect at once on every process.
        self.commit_credential_change(transaction, changed, event)
            .await
    }

    async fn credential(&self, secret_hash: &TokenHash) -> StoreResult<Option<Credential>> {
        let rows: Vec<CredentialRow> = sqlx::query_as(
            "SELECT t.id AS token_id, t.secret_hash, t.account_id, t.person_id, p.name AS \
             person_name, \
             p.disabled AS person_disabled, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, \
             r.role \
             FROM personal_access_tokens t \
             JOIN people p ON p.id = t.person_id \
             LEFT JOIN person_roles r ON r.person_id = p.id \
             WHERE t.secret_hash = $1",
        )
        .bind(secret_hash.as_bytes().as_slice())
        .fetch_all(self.pool())
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
        super::record_use(
            self.writer(),
            "personal_access_tokens",
            id.0,
            used_at,
            unless_used_after,
        )
        .await
    }

    fn follow_credential_changes(&self, on_change: std::sync::Arc<dyn Fn() + Send + Sync>) {
        Backend::listen_for_credential_changes(self.pool(), on_change);
    }
}
