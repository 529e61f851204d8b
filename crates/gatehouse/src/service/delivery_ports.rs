//! The service layer keeps the delivery layer's promises (`delivery::ports`): the queue through
//! the store with the service's clock and base URL, and keys and secrets opened with the server
//! key. Delivery is driven by these and imports nothing of the services.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::Services;
use super::events::IDEMPOTENCY_KEY_LIFETIME_HOURS;
use crate::delivery::ports::{DeliveryQueue, SigningMaterial};
use crate::delivery::sender::Sender;
use crate::delivery::signing::SigningKey;
use crate::delivery::signing::standard_webhooks::WebhookSecret;
use crate::domain::{
    DeliveryId, PolicyKey, WebhookId, WebhookNotification, WebhookPolicyId, WebhookSecretRecord,
};
use crate::store::{
    AttemptRecord, Claim, ClaimedDelivery, QueueStats, QuotaGrant, StoreResult, WorkerId,
};

#[async_trait]
impl DeliveryQueue for Services {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn sender(&self) -> Arc<Sender> {
        self.sender.clone()
    }

    fn deliveries_signal(&self) -> Arc<tokio::sync::Notify> {
        self.store.deliveries_signal()
    }

    async fn claim(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        self.store.claim_due_deliveries(claim).await
    }

    fn hand_off_to(
        &self,
        worker: WorkerId,
        lease: std::time::Duration,
        room: Arc<tokio::sync::Semaphore>,
        full: crate::store::webhooks::FullWebhooks,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<crate::store::Handed>> {
        self.store.hand_off_to(worker, lease, room, full)
    }

    async fn release(
        &self,
        worker: WorkerId,
        deliveries: &[DeliveryId],
        park: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.store
            .release_deliveries(worker, deliveries, park, now)
            .await
    }

    async fn renew(
        &self,
        worker: WorkerId,
        deliveries: &[DeliveryId],
        lease_until: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.store
            .renew_leases(worker, deliveries, lease_until)
            .await
    }

    async fn release_orphaned(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.store.release_orphaned_leases(now).await
    }

    async fn queue_unqueued(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.store.queue_unqueued(now).await
    }

    async fn record(
        &self,
        worker: WorkerId,
        attempts: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.store.record_attempts(worker, attempts, now).await
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<QueueStats> {
        self.store.queue_stats(now).await
    }

    async fn forget_expired_idempotency_keys(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.store
            .purge_idempotency_keys(now - Duration::hours(IDEMPOTENCY_KEY_LIFETIME_HOURS))
            .await
    }

    fn limits_shared(&self) -> bool {
        self.store.quotas_shared()
    }

    async fn reserve_sends(
        &self,
        webhook: WebhookId,
        second: i64,
        want: u32,
        limit: u32,
    ) -> StoreResult<QuotaGrant> {
        self.store
            .reserve_quota(&format!("webhook:{webhook}"), second, want, limit)
            .await
    }

    /// Windows are a second (webhooks) or a minute (tokens): an hour's margin keeps every
    /// window still running, whatever the clocks of the nodes say.
    async fn forget_past_limits(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.store
            .forget_quota_windows(now.timestamp() - 3600)
            .await
    }

    async fn claim_unsent_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookNotification>> {
        self.store
            .claim_unsent_notifications(now, lease_until, limit)
            .await
    }

    async fn mark_notice(
        &self,
        id: Uuid,
        sent_at: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        self.store.mark_notification(id, sent_at, error).await
    }
}

#[async_trait]
impl SigningMaterial for Services {
    fn changes(&self) -> u64 {
        self.signing_changes.load(Ordering::Acquire)
    }

    async fn policy_keys(&self, policy: WebhookPolicyId) -> StoreResult<Vec<PolicyKey>> {
        self.store.policy_keys(&[policy]).await
    }

    async fn webhook_secrets(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookSecretRecord>> {
        self.store.webhook_secrets(webhook, now).await
    }

    fn open_policy_key(&self, key: &PolicyKey) -> Result<SigningKey, String> {
        Services::open_policy_key(self, key).map_err(|error| error.to_string())
    }

    fn open_webhook_secret(&self, record: &WebhookSecretRecord) -> Result<WebhookSecret, String> {
        Services::open_webhook_secret(self, record).map_err(|error| error.to_string())
    }

    fn open_uri_password(
        &self,
        webhook: WebhookId,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<String>, String> {
        Services::open_uri_password(self, webhook, sealed).map_err(|error| error.to_string())
    }
}
