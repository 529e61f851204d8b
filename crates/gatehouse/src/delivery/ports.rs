//! What the delivery layer needs of the rest of Gatehouse, and nothing more: the worker leases,
//! records and tidies the queue through a [`DeliveryQueue`], the signer reads and opens keys
//! and secrets through [`SigningMaterial`]. Both are traits declared here, beside their users,
//! and implemented by the service layer (`service::delivery_ports`), so delivery never imports
//! the services it is driven by and a test can drive it with anything that keeps the promise.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sender::Sender;
use super::signing::SigningKey;
use super::signing::standard_webhooks::WebhookSecret;
use crate::domain::{
    DeliveryId, PolicyKey, WebhookId, WebhookNotification, WebhookPolicyId, WebhookSecretRecord,
};
use crate::store::{
    AttemptRecord, Claim, ClaimedDelivery, Handed, QueueStats, QuotaGrant, StoreResult, WorkerId,
};

/// The delivery queue as the worker and upkeep use it.
#[async_trait]
pub trait DeliveryQueue: Send + Sync + 'static {
    /// The time by the service's clock (tests pin it).
    fn now(&self) -> DateTime<Utc>;
    /// The public URL messages and notices link under, without a trailing slash.
    fn base_url(&self) -> &str;
    /// The HTTP sender with this deployment's timeout and SSRF rules: the one the service
    /// checks webhook URIs with, so what was accepted is what is reached.
    fn sender(&self) -> Arc<Sender>;
    /// Woken when deliveries may have become due (this process's commits, and on PostgreSQL
    /// every process's).
    fn deliveries_signal(&self) -> Arc<tokio::sync::Notify>;
    /// Leases due deliveries.
    async fn claim(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Has deliveries of events published through this process leased to `worker` as they are
    /// made (while half its `room` is free; not for webhooks it says are `full`), and sent, as
    /// a claim reads them, on the channel returned; `None` where the store has no such
    /// hand-off (`QueueStore::hand_off_to`).
    fn hand_off_to(
        &self,
        worker: WorkerId,
        lease: std::time::Duration,
        room: Arc<tokio::sync::Semaphore>,
        full: crate::store::webhooks::FullWebhooks,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<Handed>>;
    /// Gives leased deliveries back unsent: `park` when their webhook may not be sent to now.
    async fn release(
        &self,
        worker: WorkerId,
        deliveries: &[DeliveryId],
        park: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Extends this worker's leases on `deliveries` to `lease_until` while their attempts run;
    /// returns how many it still held.
    async fn renew(
        &self,
        worker: WorkerId,
        deliveries: &[DeliveryId],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Gives back the leases of a process that died, where this is the only process that
    /// delivers (SQLite); elsewhere does nothing. Returns how many.
    async fn release_orphaned(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Moves into the queue what a node of an earlier release scheduled; returns how many.
    async fn queue_unqueued(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Records attempts with their consequences (retry, failure count, notices); returns how
    /// many deliveries changed.
    async fn record(
        &self,
        worker: WorkerId,
        attempts: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<QueueStats>;
    /// Forgets idempotency keys too old to replay.
    async fn forget_expired_idempotency_keys(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Whether other processes deliver from the same database, so that a webhook's
    /// `rate_limit_per_second` must be counted with them (`reserve_sends`).
    fn limits_shared(&self) -> bool;
    /// Reserves up to `want` of the `limit` sends `webhook` may have in the second starting at
    /// `second` (Unix time), counted with every process.
    async fn reserve_sends(
        &self,
        webhook: WebhookId,
        second: i64,
        want: u32,
        limit: u32,
    ) -> StoreResult<QuotaGrant>;
    /// Forgets shared counts of windows that ended before `now`, less a margin.
    async fn forget_past_limits(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Leases notices waiting to be mailed.
    async fn claim_unsent_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookNotification>>;
    /// Says whether a notice was mailed, or why not.
    async fn mark_notice(
        &self,
        id: Uuid,
        sent_at: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> StoreResult<()>;
}

/// Keys and secrets as the signer reads and opens them.
#[async_trait]
pub trait SigningMaterial: Send + Sync + 'static {
    /// Counts changes of keys and secrets (rotations), here and on other nodes: a new value
    /// means what was cached is stale.
    fn changes(&self) -> u64;
    async fn policy_keys(&self, policy: WebhookPolicyId) -> StoreResult<Vec<PolicyKey>>;
    async fn webhook_secrets(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookSecretRecord>>;
    /// Opens a policy's sealed private key.
    fn open_policy_key(&self, key: &PolicyKey) -> Result<SigningKey, String>;
    /// Opens a webhook's sealed signing secret.
    fn open_webhook_secret(&self, record: &WebhookSecretRecord) -> Result<WebhookSecret, String>;
    /// Opens the sealed basic-authentication password of a webhook's URI.
    fn open_uri_password(
        &self,
        webhook: WebhookId,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<String>, String>;
}
