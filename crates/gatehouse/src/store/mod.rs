//! Storage: one interface, two backends (docs/ARCHITECTURE.md, principle 4).
//!
//! `Store` is what services call. Each write method takes the event(s) the command appends and
//! writes rows and events in one transaction, so an acknowledged change always has its event and
//! a failed one has none. The SQL is written once in `shared*.rs` and compiled for SQLite and for
//! PostgreSQL; what differs between the two lives in `sqlite.rs` and `postgres.rs`.

mod dialect;
pub mod key_fold;
mod postgres;
mod scim_columns;
mod sqlite;
pub mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use key_fold::{KeyClash, KeyKind, MigrationReport};
pub use postgres::PostgresStore;
pub use scim_columns::{MULTI_VALUED_USER_ATTRIBUTES, ScimGroupColumns, ScimUserColumns};
pub use sqlite::{SqliteStore, SqliteSynchronous};
pub use webhooks::{
    AttemptRecord, Claim, ClaimedDelivery, ClaimedPolicy, DeliveryFilter, Handed, IdempotencyKey,
    Published, QueueStats, Redelivery, WebhookFilter, WorkerId,
};

use crate::auth::{RoleSet, ScopeSet, TokenHash};
use crate::domain::UserGroup;
use crate::domain::{
    Account, AccountId, Event, GroupMember, MemberType, MembershipChange, NewEvent, NewMember,
    Person, PersonId, PersonalAccessToken, ProvisioningSecret, ProvisioningSecretId, ScimGroupId,
    ScimGroupRecord, ScimUserId, ScimUserRecord, TokenId,
};
use crate::domain::{
    Delivery, DeliveryAttempt, DeliveryId, PolicyKey, Webhook, WebhookId, WebhookNotification,
    WebhookPolicy, WebhookPolicyId, WebhookSecretRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the string names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A row the command refers to does not exist (a foreign key failed).
    #[error("missing referenced record: {0}")]
    MissingReference(String),
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database was migrated by a later release that this binary can't serve.
    #[error("{0}")]
    Incompatible(String),
    /// The backend does not do this; the text says what to use instead.
    #[error("{0}")]
    Unsupported(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a list, and how many rows the whole list has.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl<T> Listing<T> {
    /// The same page with each item turned into a view of it.
    pub fn views<'a, V>(&'a self, view: impl FnMut(&'a T) -> V) -> Listing<V> {
        Listing {
            items: self.items.iter().map(view).collect(),
            total: self.total,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

/// The columns a list may be sorted by. Every order ends with the id, so pages are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    Name,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub offset: u64,
    pub limit: u32,
    pub sort: Vec<(SortField, SortDirection)>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 25,
            sort: Vec::new(),
        }
    }
}

/// Which tokens a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenOwnerFilter {
    Everyone,
    Person(PersonId),
}

/// What a SCIM write does to the linked person: create them, or change them in place.
#[derive(Clone, Copy, Debug)]
pub enum PersonWrite<'a> {
    Insert(&'a Person),
    Update(&'a Person),
}

/// A web console session as stored: the hash of its cookie and of the token it acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    pub session_hash: Vec<u8>,
    pub token_hash: TokenHash,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Everything needed to decide whether a bearer token may act, read in one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub token_id: TokenId,
    pub secret_hash: TokenHash,
    pub account_id: AccountId,
    pub person_id: PersonId,
    pub person_name: String,
    pub person_disabled: bool,
    pub roles: RoleSet,
    pub scopes: ScopeSet,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Which SCIM records a list reads: `filter` from `scim_sql::compile_filter` (placeholders
/// from `$2`; `$1` is the account), `order_by` from `scim_sql::compile_sort` (creation order
/// when `None`), and the window: `after` a `(created_at, id)` in creation order (a cursor's
/// index seek), then `offset` rows skipped and at most `limit` read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScimPage<'a> {
    pub filter: Option<&'a scim_sql::SqlFragment>,
    pub order_by: Option<&'a str>,
    pub after: Option<(DateTime<Utc>, uuid::Uuid)>,
    pub offset: u64,
    pub limit: u32,
}

/// The database itself: its schema and whether it answers.
#[async_trait]
pub trait DatabaseStore: Send + Sync + 'static {
    /// Applies the backend's migrations, then recomputes the comparison keys if they were
    /// made by an older fold (`key_fold.rs`); safe to call on every start. The report says
    /// whether keys were recomputed and which look-alike rows clashed.
    async fn migrate(&self) -> StoreResult<MigrationReport>;

    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// The version of the last migration applied (`0015` → 15).
    async fn schema_version(&self) -> StoreResult<i64>;

    /// The database's size on disk in bytes: the SQLite file (less the pages it holds free),
    /// or the PostgreSQL database.
    async fn database_size(&self) -> StoreResult<u64>;

    /// Writes a consistent copy of the whole database to the new file `to` while it is in use
    /// (SQLite's `VACUUM INTO`: one read transaction, so the copy is the database as of one
    /// commit). PostgreSQL has `pg_dump` for that: [`StoreError::Unsupported`].
    async fn back_up(&self, to: &std::path::Path) -> StoreResult<()>;

    /// Which SQL dialect this store speaks, for the SCIM filter compiler.
    fn dialect(&self) -> scim_sql::Dialect;
}

/// Accounts: the tenants.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn insert_account(&self, account: &Account) -> StoreResult<()>;

    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>>;

    /// Writes an account's name and settings; `Ok(false)` when there is no such account.
    async fn update_account(&self, account: &Account) -> StoreResult<bool>;

    async fn accounts(&self) -> StoreResult<Vec<Account>>;
}

/// People of an account and their roles.
#[async_trait]
pub trait PeopleStore: Send + Sync + 'static {
    async fn insert_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()>;

    /// Replaces every field and the roles of an existing person.
    async fn update_person(&self, person: &Person, event: &NewEvent) -> StoreResult<()>;

    async fn person(&self, account: &AccountId, id: PersonId) -> StoreResult<Option<Person>>;

    async fn person_by_email(
        &self,
        account: &AccountId,
        email: &str,
    ) -> StoreResult<Option<Person>>;

    /// A page of the account's people; with `search`, only those whose name or primary email
    /// contains it (emails compared as SCIM compares them, names ignoring case).
    async fn people(
        &self,
        account: &AccountId,
        search: Option<&str>,
        query: &ListQuery,
    ) -> StoreResult<Listing<Person>>;
}

/// Personal access tokens, and the credential a bearer token authenticates as.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    async fn insert_token(
        &self,
        token: &PersonalAccessToken,
        secret_hash: &TokenHash,
        event: &NewEvent,
    ) -> StoreResult<()>;

    async fn token(
        &self,
        account: &AccountId,
        id: TokenId,
    ) -> StoreResult<Option<PersonalAccessToken>>;

    async fn tokens(
        &self,
        account: &AccountId,
        owner: TokenOwnerFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<PersonalAccessToken>>;

    /// Sets `revoked_at` if the token is not yet revoked; returns whether it changed. The event
    /// is appended only when it did.
    async fn revoke_token(
        &self,
        account: &AccountId,
        id: TokenId,
        revoked_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool>;

    /// Writes an unrevoked token's `name`, `description` and `scopes`; returns whether it
    /// changed (a revoked token does not). The event is appended only when it did.
    async fn update_token(
        &self,
        token: &PersonalAccessToken,
        event: &NewEvent,
    ) -> StoreResult<bool>;

    async fn credential(&self, secret_hash: &TokenHash) -> StoreResult<Option<Credential>>;

    /// Records use of a token, unless it was already recorded after `unless_used_after`.
    async fn touch_token(
        &self,
        id: TokenId,
        used_at: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Calls `on_change` whenever another process may have changed a credential (revoked a
    /// token, changed a person's roles or disabled them). PostgreSQL uses LISTEN/NOTIFY; an
    /// embedded SQLite database has no such channel, so this does nothing there.
    fn follow_credential_changes(&self, on_change: std::sync::Arc<dyn Fn() + Send + Sync>);
}

/// An account's SCIM provisioning credential: its secrets, each kept as a hash only.
#[async_trait]
pub trait ProvisioningStore: Send + Sync + 'static {
    /// Inserts the account's first current secret; `Conflict` when it already has one.
    async fn insert_provisioning_secret(
        &self,
        secret: &ProvisioningSecret,
        secret_hash: &TokenHash,
        event: &NewEvent,
    ) -> StoreResult<()>;

    /// Replaces the account's current secret with `secret`: the current one retires at
    /// `retires_at` (at once when that is not after `secret.created_at`), and a secret an
    /// earlier rotation left working is revoked, so at most one previous secret works. Returns
    /// `false`, writing nothing, when the account has no current secret.
    async fn rotate_provisioning_secret(
        &self,
        secret: &ProvisioningSecret,
        secret_hash: &TokenHash,
        retires_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool>;

    /// Revokes every secret of the account that still works; returns whether any did.
    async fn revoke_provisioning_secrets(
        &self,
        account: &AccountId,
        revoked_at: DateTime<Utc>,
        event: &NewEvent,
    ) -> StoreResult<bool>;

    /// The account's unrevoked secrets (retired ones included; the caller knows the time).
    async fn provisioning_secrets(
        &self,
        account: &AccountId,
    ) -> StoreResult<Vec<ProvisioningSecret>>;

    /// The secret whose hash is `secret_hash`, revoked or not.
    async fn provisioning_secret(
        &self,
        secret_hash: &TokenHash,
    ) -> StoreResult<Option<ProvisioningSecret>>;

    /// Records use of a secret, unless it was already recorded after `unless_used_after`.
    async fn touch_provisioning_secret(
        &self,
        id: ProvisioningSecretId,
        used_at: DateTime<Utc>,
        unless_used_after: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Deletes the secrets that stopped working (revoked, or retired by a rotation) before
    /// `stopped_before`, in every account; returns how many. Current secrets are never touched.
    async fn purge_provisioning_secrets(&self, stopped_before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The console's aggregates: attempts per hour, SCIM changes per day.
#[async_trait]
pub trait RollupStore: Send + Sync + 'static {
    /// The account's attempts per hour from the hour `since` falls in, oldest first (hours
    /// without attempts are missing); of one webhook, or of all.
    async fn hourly_attempts(
        &self,
        account: &AccountId,
        since: DateTime<Utc>,
        webhook: Option<WebhookId>,
    ) -> StoreResult<Vec<crate::domain::HourlyAttempts>>;

    /// The account's SCIM User changes per day from the day `since` falls in, oldest first.
    async fn scim_changes(
        &self,
        account: &AccountId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::ScimChanges>>;

    /// Forgets the aggregates of hours and days before `before`; returns the rows deleted.
    async fn purge_rollups(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The outbox: custom events published with their deliveries, and reading events back.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends an event another application published, honouring its idempotency key.
    async fn publish_event(
        &self,
        event: &NewEvent,
        key: Option<&IdempotencyKey>,
    ) -> StoreResult<Published>;

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// Outbox rows of an account with ids above `after_id`, oldest first.
    async fn events_after(
        &self,
        account: &AccountId,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;
}

/// SCIM Users, written with the person they provision and their events.
#[async_trait]
pub trait ScimUserStore: Send + Sync + 'static {
    /// Creates a SCIM User, its filter rows and the person it is linked to (or the change to an
    /// existing person it now owns), with its events, in one transaction.
    async fn insert_scim_user(
        &self,
        user: &ScimUserRecord,
        person: PersonWrite<'_>,
        events: &[NewEvent],
    ) -> StoreResult<()>;

    /// Replaces a SCIM User whose stored version is `expected_version` (optimistic concurrency:
    /// `Ok(false)` when someone else changed it first), its filter rows and its person.
    async fn replace_scim_user(
        &self,
        user: &ScimUserRecord,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    /// Deletes a SCIM User at `expected_version` and updates its (never deleted) person.
    async fn delete_scim_user(
        &self,
        account: &AccountId,
        id: ScimUserId,
        expected_version: i64,
        person: &Person,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    /// One SCIM User; its `values` are left empty (the representation is `resource`).
    async fn scim_user(
        &self,
        account: &AccountId,
        id: ScimUserId,
    ) -> StoreResult<Option<ScimUserRecord>>;

    /// The SCIM User linked to a person, if the provisioning client made one.
    async fn scim_user_of_person(
        &self,
        account: &AccountId,
        person: PersonId,
    ) -> StoreResult<Option<ScimUserRecord>>;

    /// A page of an account's SCIM Users (table alias `u`); `total` counts every match.
    async fn scim_users(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimUserRecord>>;
}

/// SCIM Groups and their members.
#[async_trait]
pub trait ScimGroupStore: Send + Sync + 'static {
    /// Creates a SCIM Group and its members, with its events.
    async fn insert_scim_group(
        &self,
        group: &ScimGroupRecord,
        members: &[NewMember],
        events: &[NewEvent],
    ) -> StoreResult<()>;

    /// Replaces a SCIM Group at `expected_version` and applies `members` as row inserts and
    /// deletes; `Ok(false)` when someone else changed it first.
    async fn replace_scim_group(
        &self,
        group: &ScimGroupRecord,
        expected_version: i64,
        members: &MembershipChange,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    async fn delete_scim_group(
        &self,
        account: &AccountId,
        id: ScimGroupId,
        expected_version: i64,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    async fn scim_group(
        &self,
        account: &AccountId,
        id: ScimGroupId,
    ) -> StoreResult<Option<ScimGroupRecord>>;

    /// A page of SCIM Groups (table alias `g`), as `scim_users`.
    async fn scim_groups(
        &self,
        account: &AccountId,
        page: &ScimPage<'_>,
    ) -> StoreResult<Listing<ScimGroupRecord>>;

    /// The members of some groups, with their display names, ordered by group then member id.
    async fn scim_group_members(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, GroupMember)>>;

    /// One page of a group's members, in member id order, and how many it has in all.
    async fn scim_group_member_page(
        &self,
        account: &AccountId,
        group: ScimGroupId,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Listing<GroupMember>>;

    /// How many members each of some groups has (groups without members are left out).
    async fn scim_group_member_counts(
        &self,
        account: &AccountId,
        groups: &[ScimGroupId],
    ) -> StoreResult<Vec<(ScimGroupId, u64)>>;

    /// Another group of the account (not `except`) whose displayName is `display_name`,
    /// compared ignoring case (their `display_name_key`s), claimed or not.
    async fn scim_group_named(
        &self,
        account: &AccountId,
        display_name: &str,
        except: Option<ScimGroupId>,
    ) -> StoreResult<Option<ScimGroupId>>;

    /// The groups each of some members (SCIM Users) is a direct member of, as
    /// `(member id, group)`, ordered by member, then group name: one query for a page of Users.
    async fn scim_groups_of_members(
        &self,
        account: &AccountId,
        members: &[uuid::Uuid],
    ) -> StoreResult<Vec<(uuid::Uuid, UserGroup)>>;

    /// Which of `ids` are SCIM Users or SCIM Groups of the account, and which kind each is.
    async fn scim_member_kinds(
        &self,
        account: &AccountId,
        ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<(uuid::Uuid, MemberType)>>;
}

/// Webhooks, their verification and their signing secrets.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Creates a webhook, waiting for the owner of its URI to present `verification_hash`'s
    /// secret when there is one, with its events (the `webhook.verify` event fans out to it
    /// alone).
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        verification_hash: Option<&[u8]>,
        secret: &WebhookSecretRecord,
        events: &[NewEvent],
    ) -> StoreResult<()>;

    /// Writes an administrator's change; a new verification hash replaces the old one.
    /// `reset_failures` zeroes the run of failures. Deliveries are parked or made due again
    /// as the webhook became inactive or active. `Ok(false)`: no such webhook.
    async fn update_webhook(
        &self,
        webhook: &Webhook,
        new_verification_hash: Option<&[u8]>,
        reset_failures: bool,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    /// Whether a webhook of `account` at exactly `uri` is verified.
    async fn uri_verified(&self, account: &AccountId, uri: &str) -> StoreResult<bool>;

    /// The webhook waiting for the verification secret whose hash is `hash`.
    async fn webhook_awaiting_verification(&self, hash: &[u8]) -> StoreResult<Option<Webhook>>;

    /// Marks `webhook` (its `verified_at` set) verified if it still waits for `hash`.
    async fn verify_webhook(
        &self,
        webhook: &Webhook,
        hash: &[u8],
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    /// Deletes a webhook with its deliveries, attempts and notices.
    async fn delete_webhook(
        &self,
        account: &AccountId,
        id: WebhookId,
        events: &[NewEvent],
    ) -> StoreResult<bool>;

    /// A webhook's Standard Webhooks secrets still live at `now`, newest first.
    async fn webhook_secrets(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookSecretRecord>>;

    /// Makes `secret` the webhook's current secret; the older ones sign along until
    /// `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        secret: &WebhookSecretRecord,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> StoreResult<()>;

    async fn webhook(&self, account: &AccountId, id: WebhookId) -> StoreResult<Option<Webhook>>;

    async fn webhooks(
        &self,
        account: &AccountId,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<Webhook>>;
}

/// A key a policy gains (by rotation, or because its algorithm changed); the keys superseded
/// before `retire_before` go at the same time.
#[derive(Clone, Copy, Debug)]
pub struct NewPolicyKey<'a> {
    pub key: &'a PolicyKey,
    pub retire_before: DateTime<Utc>,
}

/// Webhook policies, their links and their keys.
#[async_trait]
pub trait PolicyStore: Send + Sync + 'static {
    /// Creates a policy with its first key, linked to `links`. Returns the ids in `links` that
    /// name no webhook of the account; when there are any, nothing was written.
    async fn insert_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        key: &PolicyKey,
        links: &[WebhookId],
        events: &[NewEvent],
    ) -> StoreResult<Vec<WebhookId>>;

    /// Writes a policy's changes and, with `links`, makes exactly those webhooks the linked
    /// ones; with `new_key` (its algorithm changed), adds that key as a rotation does; makes due
    /// again what nothing holds back any more. `Ok(None)`: no such policy. `Ok(Some(ids))`: the
    /// ids in `links` naming no webhook of the account — when not empty, nothing was written.
    async fn update_webhook_policy(
        &self,
        policy: &WebhookPolicy,
        links: Option<&[WebhookId]>,
        new_key: Option<NewPolicyKey<'_>>,
        events: &[NewEvent],
    ) -> StoreResult<Option<Vec<WebhookId>>>;

    /// Deletes a policy no webhook links to. `Ok(None)`: no such policy; `Ok(Some(n))`, n > 0:
    /// n webhooks link to it and nothing was deleted; `Ok(Some(0))`: deleted.
    async fn delete_webhook_policy(
        &self,
        account: &AccountId,
        id: WebhookPolicyId,
        events: &[NewEvent],
    ) -> StoreResult<Option<u64>>;

    async fn webhook_policy(
        &self,
        account: &AccountId,
        id: WebhookPolicyId,
    ) -> StoreResult<Option<WebhookPolicy>>;

    /// The account's policies named exactly `name`; with `for_discovery`, only those a webhook
    /// asking for OpenID Connect discovery links to.
    async fn webhook_policies_named(
        &self,
        account: &AccountId,
        name: &str,
        for_discovery: bool,
    ) -> StoreResult<Vec<WebhookPolicy>>;

    async fn webhook_policies(
        &self,
        account: &AccountId,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<WebhookPolicy>>;

    /// The webhooks linked to each of `policies`.
    async fn policy_links(
        &self,
        account: &AccountId,
        policies: &[WebhookPolicyId],
    ) -> StoreResult<Vec<(WebhookPolicyId, WebhookId)>>;

    /// Adds a rotation's key.
    async fn insert_policy_key(
        &self,
        new_key: NewPolicyKey<'_>,
        events: &[NewEvent],
    ) -> StoreResult<()>;

    /// Every stored key of `policies`, by policy, oldest first (one query for a page of them).
    async fn policy_keys(&self, policies: &[WebhookPolicyId]) -> StoreResult<Vec<PolicyKey>>;
}

/// Web console sessions (hashes only).
#[async_trait]
pub trait ConsoleSessionStore: Send + Sync + 'static {
    /// Opens a console session; on the way, forgets every session idle since
    /// `idle_before` or past its `expires_at`.
    async fn insert_console_session(
        &self,
        session: &ConsoleSession,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The session whose cookie hashes to `session_hash`, if it is still open.
    async fn console_session(&self, session_hash: &[u8]) -> StoreResult<Option<ConsoleSession>>;

    /// Records activity on a session, unless it was already recorded after `unless_seen_after`.
    async fn touch_console_session(
        &self,
        session_hash: &[u8],
        seen_at: DateTime<Utc>,
        unless_seen_after: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Ends a session (sign-out, idle, expired); `false` when there was none.
    async fn delete_console_session(&self, session_hash: &[u8]) -> StoreResult<bool>;
}

/// Deliveries as people read them, redelivery, and the notices kept about failures.
#[async_trait]
pub trait DeliveryStore: Send + Sync + 'static {
    async fn deliveries(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        query: &ListQuery,
    ) -> StoreResult<Listing<Delivery>>;

    /// Up to `limit` deliveries matching `filter`, newest first (by id, which is minted from
    /// `created_at`), older than the delivery `before` when given: a keyset page, as cheap far
    /// back as at the start.
    async fn delivery_page(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;

    /// How many deliveries match `filter`, counting no further than `up_to`.
    async fn count_deliveries(
        &self,
        account: &AccountId,
        filter: &DeliveryFilter,
        up_to: u64,
    ) -> StoreResult<u64>;

    async fn delivery(&self, account: &AccountId, id: DeliveryId) -> StoreResult<Option<Delivery>>;

    /// Every attempt of a delivery, first to last.
    async fn delivery_attempts(
        &self,
        account: &AccountId,
        id: DeliveryId,
    ) -> StoreResult<Vec<DeliveryAttempt>>;

    /// New deliveries repeating finished ones that were not redelivered yet.
    async fn redeliver(
        &self,
        account: &AccountId,
        originals: &[DeliveryId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Redelivery>>;

    async fn failed_deliveries_since(
        &self,
        account: &AccountId,
        webhook: WebhookId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryId>>;

    async fn notifications(
        &self,
        account: &AccountId,
        query: &ListQuery,
    ) -> StoreResult<Listing<WebhookNotification>>;
}

/// The delivery queue as workers use it: claim under a lease, release, record, notices to mail.
#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Leases due deliveries to a worker (see `shared_webhooks.rs`).
    async fn claim_due_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>>;

    /// Gives leased deliveries back unsent; `park` takes them off the schedule, otherwise they
    /// are due at `now`.
    async fn release_deliveries(
        &self,
        worker: WorkerId,
        ids: &[DeliveryId],
        park: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Records attempts, their deliveries' new state and their webhooks' health, in one
    /// transaction; returns how many were recorded (the lease still held).
    async fn record_attempts(
        &self,
        worker: WorkerId,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Extends `worker`'s leases on `ids` (those it still holds) to `lease_until`; returns how
    /// many it still held.
    async fn renew_leases(
        &self,
        worker: WorkerId,
        ids: &[DeliveryId],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Where one process is all that delivers (SQLite), gives back every lease — its holder
    /// died — so those deliveries are due at `now`; returns how many. Elsewhere (PostgreSQL,
    /// where other nodes may be alive) changes nothing: leases run out by themselves.
    async fn release_orphaned_leases(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Moves into the queue the due deliveries a node of an earlier release made or scheduled
    /// its way (migration 0027) that no lease holds now, so that they are sent once nodes of
    /// that release stop, and makes due the queued deliveries such a node unparked (it writes
    /// the wide row only); returns how many.
    async fn queue_unqueued(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<QueueStats>;

    /// [`Self::queue_stats`] of one account's deliveries.
    async fn account_queue_stats(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> StoreResult<QueueStats>;

    /// Woken when deliveries may have become due (here, or on PostgreSQL in any process).
    fn deliveries_signal(&self) -> std::sync::Arc<tokio::sync::Notify>;

    /// Leases the deliveries of events published through this process to `worker` as they are
    /// made, while at least half of its `room` is free, and sends them, read as a claim reads
    /// them, on the channel returned: a claim and a read spared per message. `None` where the
    /// store has no hand-off.
    /// Deliveries of ordered or rate-limited webhooks, and of those the worker says are `full`,
    /// are never handed off: they wait for a claim, which knows their order, the cluster's
    /// count and the worker's room.
    fn hand_off_to(
        &self,
        worker: WorkerId,
        lease: std::time::Duration,
        room: std::sync::Arc<tokio::sync::Semaphore>,
        full: webhooks::FullWebhooks,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<Handed>>;

    /// Leases notices waiting to be mailed, so that one process mails each.
    async fn claim_unsent_notifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookNotification>>;

    async fn mark_notification(
        &self,
        id: uuid::Uuid,
        sent_at: Option<DateTime<Utc>>,
        send_error: Option<&str>,
    ) -> StoreResult<()>;
}

/// Everything the services need of storage: one trait per aggregate (as lldap composes its
/// backend handler), so a reader finds a method beside its kin and a part of the code can
/// depend on just the part it uses (the delivery worker on `QueueStore`, say). Both backends
/// Retention: what accounts no longer keep goes a small batch per transaction.
#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// Deletes up to `limit` of the account's finished (succeeded or failed) deliveries created
    /// before `before`, oldest first, with their attempts. Links to them — a redelivery's
    /// original and the original's redelivery, a webhook's last delivery, a notice's delivery —
    /// read null afterwards. Pending deliveries are never deleted.
    async fn purge_deliveries(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<PurgedDeliveries>;

    /// Looks at up to `limit` of the account's events after event id `after`, and deletes those
    /// created before `before` of which no delivery is left.
    async fn purge_events(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        after: i64,
        limit: u32,
    ) -> StoreResult<PurgedEvents>;

    /// Deletes up to `limit` of the account's notices created before `before`.
    async fn purge_notifications(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<PurgedNotices>;

    /// Forgets the verification secrets of webhooks whose verification was sent before
    /// `sent_before` (used ones are forgotten when used); returns how many.
    async fn purge_verification_secrets(&self, sent_before: DateTime<Utc>) -> StoreResult<u64>;

    /// Deletes the console sessions that ended: idle since before `idle_before`, or expired at
    /// `now`.
    async fn purge_console_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Gives up to `pages` free pages back to the file system (SQLite's incremental vacuum; 0
    /// gives none back) and says how many pages the file has, and how many of them are free;
    /// PostgreSQL's autovacuum needs no help (none).
    async fn reclaim_space(&self, pages: u32) -> StoreResult<FreePages>;
}

/// What one batch of [`RetentionStore::purge_deliveries`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgedDeliveries {
    /// Deliveries the batch selected (fewer than the limit: none are left before the cutoff).
    pub scanned: u64,
    pub deliveries: u64,
    pub attempts: u64,
    /// How long the batch's transaction held the writer (not counting the wait for it).
    pub held: std::time::Duration,
}

/// What one batch of [`RetentionStore::purge_events`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgedEvents {
    pub events: u64,
    /// Where the next batch starts (the last event id looked at), or `None` when the walk
    /// reached the cutoff or the end.
    pub next_after: Option<i64>,
    /// How long the batch's transaction held the writer (zero when it deleted nothing).
    pub held: std::time::Duration,
}

/// A SQLite file's pages: all of them, and those free for new rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreePages {
    pub free: u64,
    pub total: u64,
}

/// What one batch of [`RetentionStore::purge_notifications`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgedNotices {
    pub notifications: u64,
    /// How long the batch's transaction held the writer.
    pub held: std::time::Duration,
}

/// Limits shared by every process of one database, counted in fixed windows.
#[async_trait]
pub trait QuotaStore: Send + Sync + 'static {
    /// Whether other processes may share this store's limits (PostgreSQL). An embedded SQLite
    /// file has one serving process, which can count in memory.
    fn quotas_shared(&self) -> bool;

    /// Reserves up to `want` of the `limit` that `key` has in the window starting at
    /// `window_start` (Unix seconds, aligned the same way by every process): grants what the
    /// reservations before this one left.
    async fn reserve_quota(
        &self,
        key: &str,
        window_start: i64,
        want: u32,
        limit: u32,
    ) -> StoreResult<QuotaGrant>;

    /// Forgets the windows that started before `window_start` (Unix seconds); returns how
    /// many.
    async fn forget_quota_windows(&self, window_start: i64) -> StoreResult<u64>;
}

/// What a quota reservation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaGrant {
    /// How much of what was asked may be spent (0 when the window's limit is used up).
    pub granted: u32,
    /// How much of the limit the window's reservations took before this one, up to the limit.
    pub taken_before: u32,
}

impl QuotaGrant {
    /// The grant of asking `want` of `limit` when `asked_before` was asked before.
    pub fn of(want: u32, limit: u32, asked_before: u64) -> Self {
        let taken_before = u32::try_from(asked_before.min(u64::from(limit))).unwrap_or(limit);
        Self {
            granted: want.min(limit - taken_before),
            taken_before,
        }
    }
}

/// implement every part; `Store` is all of them. On `dyn Store` every method resolves as it
/// is; on a backend's own type (`SqliteStore`) the part must be in scope.
pub trait Store:
    DatabaseStore
    + AccountStore
    + PeopleStore
    + TokenStore
    + ProvisioningStore
    + RollupStore
    + EventStore
    + ScimUserStore
    + ScimGroupStore
    + WebhookStore
    + PolicyStore
    + ConsoleSessionStore
    + DeliveryStore
    + QueueStore
    + QuotaStore
    + RetentionStore
{
}

impl<T> Store for T where
    T: DatabaseStore
        + AccountStore
        + PeopleStore
        + TokenStore
        + ProvisioningStore
        + RollupStore
        + EventStore
        + ScimUserStore
        + ScimGroupStore
        + WebhookStore
        + PolicyStore
        + ConsoleSessionStore
        + DeliveryStore
        + QueueStore
        + QuotaStore
        + RetentionStore
{
}

/// Opens the store a database URL names: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn connect(
    database_url: &str,
    sqlite_synchronous: SqliteSynchronous,
) -> StoreResult<std::sync::Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(
            SqliteStore::connect_synchronous(database_url, sqlite_synchronous).await?,
        ))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(
            PostgresStore::connect(database_url).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(database_url)))
    }
}

/// A database URL without its password, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{QuotaGrant, redact_url};

    #[test]
    fn a_quota_grant_is_what_the_earlier_reservations_left() {
        let grant = |want, limit, before| {
            let QuotaGrant {
                granted,
                taken_before,
            } = QuotaGrant::of(want, limit, before);
            (granted, taken_before)
        };
        assert_eq!(grant(3, 10, 0), (3, 0));
        assert_eq!(grant(3, 10, 8), (2, 8));
        assert_eq!(grant(3, 10, 10), (0, 10));
        // Reservations past the limit still add to what was asked; nothing more is granted.
        assert_eq!(grant(3, 10, 1_000), (0, 10));
        assert_eq!(grant(0, 10, 4), (0, 4));
    }

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
