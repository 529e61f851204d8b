//! What the store takes and gives for webhooks and the delivery queue, beside the `Store`
//! methods that use them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::ClaimExpiry;
use crate::domain::message::EnvelopeFacts;
use crate::domain::{
    AccountId, Actor, DeliveryAttempt, DeliveryId, DeliveryStatus, JwtFormat, WebhookId,
    WebhookPolicyId,
};

/// Which webhooks a list shows (Xurrent's predefined filters `enabled` and `disabled`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookFilter {
    pub disabled: Option<bool>,
}

/// Which deliveries a list shows; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub webhook_id: Option<WebhookId>,
    pub status: Option<DeliveryStatus>,
    pub event: Option<String>,
    /// Only test sends (`true`), or only real events (`false`).
    pub test_mode: Option<bool>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

/// What a worker asks to lease.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub worker: WorkerId,
    pub now: DateTime<Utc>,
    /// The lease runs out then; another worker may then take the delivery over.
    pub lease_until: DateTime<Utc>,
    /// Deliveries leased at most.
    pub limit: u32,
    /// Deliveries leased at most for one webhook.
    pub per_webhook: u32,
    /// Webhooks to skip (those the worker is already sending to as fast as it may).
    pub excluded: &'a [WebhookId],
    /// Webhooks that may take another number than `per_webhook` (the worker knows how fast
    /// they answer, and how many it holds already).
    pub room: &'a [(WebhookId, u32)],
}

/// A delivery a worker leased, with what it needs to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub account_id: AccountId,
    pub webhook_id: WebhookId,
    pub event_id: i64,
    pub event: String,
    /// Attempts made before this one.
    pub attempts_made: u32,
    /// The bytes earlier attempts sent, where a delivery made before schema 17 stored them.
    pub request_body: Option<Vec<u8>>,
    /// What its first attempt built the message with (the message is built again from these,
    /// to the byte); `None` before the first attempt.
    pub message_envelope: Option<EnvelopeFacts>,
    pub webhook_name: String,
    /// As shown: a password in it is `***`, and `uri_password` holds it, sealed.
    pub uri: String,
    pub uri_password: Option<Vec<u8>>,
    /// Whether the webhook may receive this delivery now (enabled and verified, or this is its
    /// verification message). A claimed delivery that may not is parked again, unsent.
    pub deliverable: bool,
    /// Its webhook delivers in event order.
    pub ordered: bool,
    pub rate_limit_per_second: Option<u32>,
    /// The enabled policy that signs its messages; `None` sends them with Standard Webhooks
    /// signatures. (A webhook whose policy is disabled is not `deliverable`.)
    pub policy: Option<ClaimedPolicy>,
    pub object_id: String,
    pub actor: Option<Actor>,
    pub payload: serde_json::Value,
    pub event_created_at: DateTime<Utc>,
}

/// How a claimed delivery's policy signs, as it stood at the claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedPolicy {
    pub id: WebhookPolicyId,
    /// Names the OpenID Connect issuer, with `discovery`.
    pub name: String,
    /// The webhook asks for OpenID Connect discovery: its messages' `iss` is the policy's
    /// issuer, which serves its keys.
    pub discovery: bool,
    /// `None`: no `exp` claim.
    pub expires_in: Option<ClaimExpiry>,
    pub audience: Option<String>,
    pub format: JwtFormat,
}

/// The outcome of one attempt, as the worker hands it back.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub delivery_id: DeliveryId,
    pub webhook_id: WebhookId,
    pub account_id: AccountId,
    pub event: String,
    /// Its webhook delivers in event order (recording it may make the next message due).
    pub ordered: bool,
    /// What this attempt was sent with besides the event (its URI is `attempt.request_uri`):
    /// the first attempt's builds the message every later attempt sends again.
    pub envelope: EnvelopeFacts,
    pub attempt: DeliveryAttempt,
    pub succeeded: bool,
    /// When a failed delivery is tried again; `None` once it has had every attempt.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Short text for notifications: `HTTP 503`, `timed out after 10 s`, …
    pub failure: Option<String>,
}

/// What publishing an event with an idempotency key came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Published {
    /// Appended now: the event id and how many deliveries it fanned out to.
    Created { event_id: i64, deliveries: u64 },
    /// The key was used for the same request within its lifetime: the first event's id.
    Replayed { event_id: i64, deliveries: u64 },
    /// The key was used for a different request within its lifetime.
    KeyReused,
}

/// An idempotency key and the fingerprint of the request that used it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: Vec<u8>,
    /// Keys used before this moment have expired and may be used again.
    pub valid_after: DateTime<Utc>,
}

/// How much the delivery queue holds, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueueStats {
    /// Pending deliveries that are due (not parked, not waiting for a retry).
    pub due: u64,
    /// Pending deliveries in all.
    pub pending: u64,
    pub oldest_due_at: Option<DateTime<Utc>>,
}

/// A redelivery made: the new delivery and the one it repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redelivery {
    pub original: DeliveryId,
    pub new: DeliveryId,
}

/// Who holds a lease: one id per worker process.
pub type WorkerId = Uuid;

/// A worker that takes the deliveries of events published through this process leased to it
/// already, so that it need not claim them: at everyday rates, a claim per message (a write of
/// the delivery's row in every one of its indexes) spared. Registered with
/// `QueueStore::hand_off_to`; the publishing statement (PostgreSQL) or transaction (SQLite)
/// leases to it.
pub(crate) struct HandOff {
    pub(crate) worker: WorkerId,
    pub(crate) lease: std::time::Duration,
    /// The worker's room for deliveries it holds: it is handed deliveries only while at least
    /// half of it is free, and they are claimed like any others otherwise.
    pub(crate) room: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) half_room: usize,
    /// The webhooks the worker has no room for now: their deliveries wait for a claim, which
    /// the worker makes when it has room again (handed, they would be given straight back).
    pub(crate) full: FullWebhooks,
    pub(crate) handed: tokio::sync::mpsc::UnboundedSender<Handed>,
}

/// Deliveries made leased to a worker by the statement that published their events, read as a
/// claim would have read them: the worker sends them without a round trip of its own.
#[derive(Debug)]
pub struct Handed {
    pub deliveries: Vec<ClaimedDelivery>,
    /// When their lease runs out unless the worker renews it.
    pub held_until: DateTime<Utc>,
}

/// Asks a worker which webhooks it has no room for.
pub type FullWebhooks = std::sync::Arc<dyn Fn() -> Vec<WebhookId> + Send + Sync>;

/// Whom `HandOffSlot::lease` leases new deliveries to: a worker, until when, and the webhooks
/// it takes none of now.
pub(crate) struct HandOffLease {
    pub(crate) worker: WorkerId,
    pub(crate) until: DateTime<Utc>,
    pub(crate) full: Vec<WebhookId>,
}

impl HandOffLease {
    /// Whether a new delivery to `webhook` is made leased to the worker: not for an ordered or
    /// a rate-limited webhook, nor for one the worker has no room for. (PostgreSQL's
    /// `APPEND_PUBLISHED` says the same in SQL.)
    pub(crate) fn takes(&self, webhook: WebhookId, ordered: bool, rate_limited: bool) -> bool {
        !ordered && !rate_limited && !self.full.contains(&webhook)
    }
}

/// Where a store keeps its `HandOff`, if a worker registered one.
#[derive(Default)]
pub(crate) struct HandOffSlot(std::sync::Mutex<Option<HandOff>>);

impl HandOffSlot {
    pub(crate) fn register(&self, hand_off: HandOff) {
        *self.lock() = Some(hand_off);
    }

    /// The worker to lease new deliveries to, until when and but for which webhooks, if one
    /// is registered, listening, and has room.
    pub(crate) fn lease(&self, now: DateTime<Utc>) -> Option<HandOffLease> {
        let (worker, lease, full) = {
            let slot = self.lock();
            let hand_off = slot.as_ref()?;
            if hand_off.handed.is_closed() || hand_off.room.available_permits() < hand_off.half_room
            {
                return None;
            }
            (hand_off.worker, hand_off.lease, hand_off.full.clone())
        };
        Some(HandOffLease {
            worker,
            until: now + chrono::Duration::from_std(lease).ok()?,
            // Asked with this slot unlocked: the worker takes its own lock to answer.
            full: full(),
        })
    }

    /// Hands leased deliveries to the worker. If it stopped meanwhile, their leases run out
    /// and any worker claims them.
    pub(crate) fn hand(&self, handed: Handed) {
        if handed.deliveries.is_empty() {
            return;
        }
        if let Some(hand_off) = self.lock().as_ref() {
            let _ = hand_off.handed.send(handed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HandOff>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
