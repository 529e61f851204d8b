//! Events other applications publish (`POST /v1/events`), which makes Gatehouse webhook
//! infrastructure for any system: a custom event fans out to the webhooks listening to it like
//! Gatehouse's own. An `Idempotency-Key` makes a retried publish safe for 24 hours.

use chrono::Duration;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Scope};
use crate::domain::{Account, NewEvent, check_custom_event_name};
use crate::store::{IdempotencyKey, Published, StoreError};

const EVENTS_WRITE: Scope = Scope::write(Resource::Events);

/// How long an idempotency key keeps its first answer.
pub const IDEMPOTENCY_KEY_LIFETIME_HOURS: i64 = 24;
/// The longest idempotency key accepted.
pub const IDEMPOTENCY_KEY_MAX_LENGTH: usize = 255;
/// The largest payload accepted, serialized.
pub const MAX_EVENT_PAYLOAD_BYTES: usize = 256 * 1024;
/// The longest object id accepted.
pub const OBJECT_ID_MAX_LENGTH: usize = 255;

pub struct PublishEvent {
    pub event: String,
    pub object_id: String,
    pub payload: Value,
}

/// What a publish answers, the same on a replay.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublishedEvent {
    /// The event's id in the outbox.
    pub id: i64,
    pub event: String,
    pub object_id: String,
    /// How many webhooks it was queued for.
    pub deliveries: u64,
    /// True when an earlier request with the same `Idempotency-Key` published it.
    pub replayed: bool,
}

impl Services {
    pub async fn publish_event(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        publish: PublishEvent,
        idempotency_key: Option<&str>,
    ) -> ServiceResult<PublishedEvent> {
        if let Some(principal) = principal {
            principal.require(EVENTS_WRITE)?;
        }
        let mut problems = Vec::new();
        if let Err(error) = check_custom_event_name(&publish.event) {
            problems.push(error.to_string());
        }
        if publish.object_id.chars().count() > OBJECT_ID_MAX_LENGTH {
            problems.push(format!(
                "object_id is longer than {OBJECT_ID_MAX_LENGTH} characters"
            ));
        }
        if !publish.payload.is_object() {
            problems.push("payload must be a JSON object".to_owned());
        } else if serde_json::to_vec(&publish.payload).map_or(0, |bytes| bytes.len())
            > MAX_EVENT_PAYLOAD_BYTES
        {
            problems.push(format!(
                "payload is larger than {} KiB",
                MAX_EVENT_PAYLOAD_BYTES / 1024
            ));
        }
        if let Some(key) = idempotency_key
            && (key.is_empty()
                || key.len() > IDEMPOTENCY_KEY_MAX_LENGTH
                || !key.bytes().all(|byte| byte.is_ascii_graphic()))
        {
            problems.push(format!(
                "the Idempotency-Key header must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters"
            ));
        }
        if !problems.is_empty() {
            return Err(ServiceError::invalid(problems));
        }
        let now = self.clock.now();
        let key = idempotency_key.map(|key| IdempotencyKey {
            key: key.to_owned(),
            request_hash: request_fingerprint(&publish),
            valid_after: now - Duration::hours(IDEMPOTENCY_KEY_LIFETIME_HOURS),
        });
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &account.id,
            &publish.event,
            &publish.object_id,
            actor.as_ref(),
            publish.payload.clone(),
            now,
        );
        let published = match self.store.publish_event(&event, key.as_ref()).await {
            // Two requests with one key raced; the loser reads the winner's answer.
            Err(StoreError::Conflict(_)) if key.is_some() => {
                self.store.publish_event(&event, key.as_ref()).await?
            }
            other => other?,
        };
        let answer = |id, deliveries, replayed| PublishedEvent {
            id,
            event: publish.event.clone(),
            object_id: publish.object_id.clone(),
            deliveries,
            replayed,
        };
        match published {
            Published::Created {
                event_id,
                deliveries,
            } => Ok(answer(event_id, deliveries, false)),
            Published::Replayed {
                event_id,
                deliveries,
            } => Ok(answer(event_id, deliveries, true)),
            Published::KeyReused => Err(ServiceError::invalid(vec![
                "this Idempotency-Key was used with a different request in the last 24 hours"
                    .to_owned(),
            ])),
        }
    }
}

/// What makes two publishes "the same request": event, object and payload.
fn request_fingerprint(publish: &PublishEvent) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(publish.event.as_bytes());
    hasher.update([0]);
    hasher.update(publish.object_id.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(&publish.payload).unwrap_or_default());
    hasher.finalize().to_vec()
}
