//! Webhook deliveries as administrators see them: the message sent, every attempt, and
//! redelivery (a new delivery of the same bytes, linked to the one it repeats).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::OrNotFound;
use super::{Principal, ServiceError, ServiceResult, Services, require_scope};
use crate::auth::{Resource, Scope};
use crate::delivery::mail::compose_notice;
use crate::domain::{
    Account, Delivery, DeliveryAttempt, DeliveryId, DeliveryStatus, NotificationKind, VERIFY_EVENT,
    WaitingReason, WebhookId, WebhookNotification,
};
use crate::store::{DeliveryFilter, ListQuery, Listing};

const DELIVERIES_READ: Scope = Scope::read(Resource::WebhookDeliveries);
const DELIVERIES_WRITE: Scope = Scope::write(Resource::WebhookDeliveries);

/// The most deliveries one "redeliver failed" call repeats; call again for more.
/// What a verification message's signed body reads as in views: it holds the callback secret.
pub const REDACTED_VERIFICATION_BODY: &str =
    "[redacted: a signed verification message carries the one-time callback]";

pub const MAX_REDELIVERIES_PER_CALL: u32 = 10_000;

/// A delivery as REST shows it. The list leaves out the attempts and the last response; the
/// single-delivery view has them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event: String,
    pub event_id: i64,
    /// The message sent (the JSON body), once the first attempt built it.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub payload: Option<serde_json::Value>,
    /// Attempts made so far.
    pub attempt: u32,
    pub status: DeliveryStatus,
    pub response_status: Option<u16>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the next attempt is due; absent when finished, or while the webhook is disabled or
    /// unverified (the delivery waits).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why a pending delivery waits unscheduled: `webhook_disabled`, `webhook_unverified`,
    /// `policy_disabled` or `policy_missing`; `null` otherwise.
    pub waiting_on: Option<WaitingReason>,
    /// The same, in words.
    pub waiting_reason: Option<&'static str>,
    pub redelivery_of_id: Option<Uuid>,
    pub redelivered_by_id: Option<Uuid>,
    /// Made by a test send (`POST /v1/webhooks/{id}/test`), Xurrent's "Test mode".
    pub test_mode: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub request_headers: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub response_headers: Option<serde_json::Value>,
    /// The first 64 KiB of the last response's body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// The policy whose key signed the last attempt, and that key's id (the JWS `kid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_policy_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<DeliveryAttempt>>,
}

impl DeliveryView {
    pub fn new(delivery: &Delivery) -> Self {
        Self {
            id: delivery.id.0,
            webhook_id: delivery.webhook_id.0,
            event: delivery.event.clone(),
            event_id: delivery.event_id,
            payload: delivery
                .request_body
                .as_deref()
                .and_then(|body| serde_json::from_slice(body).ok())
                .map(|message| redact_verification(&delivery.event, message)),
            attempt: delivery.attempt,
            status: delivery.status,
            response_status: delivery.response_status,
            duration_ms: delivery.duration_ms,
            error: delivery.error.clone(),
            created_at: delivery.created_at,
            sent_at: delivery.sent_at,
            next_attempt_at: delivery.next_attempt_at,
            waiting_on: delivery.waiting_on,
            waiting_reason: delivery.waiting_on.map(WaitingReason::explanation),
            redelivery_of_id: delivery.redelivery_of_id.map(|id| id.0),
            redelivered_by_id: delivery.redelivered_by_id.map(|id| id.0),
            test_mode: delivery.test_mode,
            request_uri: None,
            request_headers: None,
            response_headers: None,
            response_body: None,
            webhook_policy_id: None,
            signing_key_id: None,
            attempts: None,
        }
    }

    /// The view with the last attempt's request and response, and every attempt.
    pub fn with_attempts(delivery: &Delivery, attempts: Vec<DeliveryAttempt>) -> Self {
        let mut view = Self::new(delivery);
        if let Some(last) = attempts.last() {
            view.request_uri = Some(last.request_uri.clone());
            view.request_headers = Some(headers_object(&last.request_headers));
            view.response_headers = Some(headers_object(&last.response_headers));
            view.response_body = Some(last.response_body.clone());
            view.webhook_policy_id = last.webhook_policy_id;
            view.signing_key_id = last.signing_key_id.clone();
        }
        view.attempts = Some(attempts);
        view
    }
}

fn headers_object(headers: &[(String, String)]) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (name, value) in headers {
        object.insert(name.clone(), serde_json::Value::String(value.clone()));
    }
    serde_json::Value::Object(object)
}

/// A verification message's callback is a one-time secret for the owner of the URI: the
/// delivery record shows where it pointed, not the secret.
fn redact_verification(event: &str, mut message: serde_json::Value) -> serde_json::Value {
    if event == VERIFY_EVENT
        && let Some(callback) = message.pointer_mut("/payload/callback")
        && let Some(text) = callback.as_str()
        && let Some(cut) = text.rfind('/')
    {
        *callback = serde_json::Value::String(format!("{}/[redacted]", &text[..cut]));
    }
    message
}

impl Services {
    pub async fn deliveries(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        filter: &DeliveryFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<Delivery>> {
        require_scope(principal, DELIVERIES_READ)?;
        if let Some(webhook) = filter.webhook_id {
            self.webhook_of(account, webhook).await?;
        }
        Ok(self.store.deliveries(&account.id, filter, query).await?)
    }

    /// A keyset page of deliveries, newest first, older than `before` when given, and how
    /// many match the filter in all, counted up to `count_up_to` (the console's list: as fast
    /// a thousand pages back as on the first).
    pub async fn delivery_page(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        filter: &DeliveryFilter,
        before: Option<DeliveryId>,
        limit: u32,
        count_up_to: u64,
    ) -> ServiceResult<(Vec<Delivery>, u64)> {
        require_scope(principal, DELIVERIES_READ)?;
        if let Some(webhook) = filter.webhook_id {
            self.webhook_of(account, webhook).await?;
        }
        let page = self
            .store
            .delivery_page(&account.id, filter, before, limit)
            .await?;
        let total = self
            .store
            .count_deliveries(&account.id, filter, count_up_to)
            .await?;
        Ok((page, total))
    }

    /// One delivery with every attempt.
    pub async fn delivery(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: DeliveryId,
    ) -> ServiceResult<(Delivery, Vec<DeliveryAttempt>)> {
        require_scope(principal, DELIVERIES_READ)?;
        let delivery = self.delivery_of(account, id).await?;
        let mut attempts = self.store.delivery_attempts(&account.id, id).await?;
        if delivery.event == VERIFY_EVENT {
            // A signed verification message carries the one-time callback in its claims.
            for attempt in &mut attempts {
                if attempt.request_body.is_some() {
                    attempt.request_body = Some(REDACTED_VERIFICATION_BODY.to_owned());
                }
            }
        }
        Ok((delivery, attempts))
    }

    /// Sends a finished delivery's message again, as a new delivery linked to it. A delivery
    /// still pending will be tried anyway; one already redelivered points to its redelivery.
    pub async fn redeliver(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: DeliveryId,
    ) -> ServiceResult<Delivery> {
        require_scope(principal, DELIVERIES_WRITE)?;
        let original = self.delivery_of(account, id).await?;
        if original.status == DeliveryStatus::Pending {
            return Err(ServiceError::Conflict(
                "the delivery is still pending; it is redelivered only once it has succeeded or failed".to_owned(),
            ));
        }
        if let Some(by) = original.redelivered_by_id {
            return Err(ServiceError::Conflict(format!(
                "the delivery was already redelivered as {by}; redeliver that one"
            )));
        }
        let made = self
            .store
            .redeliver(&account.id, &[id], self.clock.now())
            .await?;
        let Some(redelivery) = made.first() else {
            return Err(ServiceError::Conflict(
                "the delivery was redelivered by someone else at the same time".to_owned(),
            ));
        };
        self.delivery_of(account, redelivery.new).await
    }

    /// Redelivers every failed delivery of a webhook created since `since` that was not
    /// redelivered yet (at most `MAX_REDELIVERIES_PER_CALL`); returns how many.
    pub async fn redeliver_failed(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        webhook: WebhookId,
        since: DateTime<Utc>,
    ) -> ServiceResult<u64> {
        require_scope(principal, DELIVERIES_WRITE)?;
        self.webhook_of(account, webhook).await?;
        let failed = self
            .store
            .failed_deliveries_since(&account.id, webhook, since, MAX_REDELIVERIES_PER_CALL)
            .await?;
        let mut made = 0;
        for chunk in failed.chunks(500) {
            made += self
                .store
                .redeliver(&account.id, chunk, self.clock.now())
                .await?
                .len() as u64;
        }
        Ok(made)
    }

    /// The account's delivery `id`, or 404.
    async fn delivery_of(&self, account: &Account, id: DeliveryId) -> ServiceResult<Delivery> {
        self.store
            .delivery(&account.id, id)
            .await
            .or_not_found("Webhook delivery")
    }

    /// Exception and disabled notices, newest first, whether or not they were mailed, with the
    /// mail each is (or was) sent as.
    pub async fn webhook_notifications(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        query: &ListQuery,
    ) -> ServiceResult<Listing<NotificationView>> {
        require_scope(principal, super::webhooks::WEBHOOKS_READ)?;
        let listing = self.store.notifications(&account.id, query).await?;
        Ok(listing.views(|notice| NotificationView::new(notice, &self.base_url)))
    }
}

/// An exception or disabled notice as REST and the console show it: the mail it is sent as.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub account_id: String,
    pub webhook_id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub send_error: Option<String>,
}

impl NotificationView {
    pub fn new(notice: &WebhookNotification, base_url: &str) -> Self {
        let mail = compose_notice(notice, base_url);
        Self {
            id: notice.id,
            account_id: notice.account_id.to_string(),
            webhook_id: notice.webhook_id,
            delivery_id: notice.delivery_id,
            kind: notice.kind,
            recipients: notice.recipients.clone(),
            subject: mail.subject,
            body: mail.text,
            created_at: notice.created_at,
            sent_at: notice.sent_at,
            send_error: notice.send_error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::redact_verification;

    #[test]
    fn verification_callback_secret_is_redacted_in_views() {
        let message =
            json!({ "payload": { "callback": "http://h/v1/webhook_verifications/ghv_secret" } });
        let shown = redact_verification("webhook.verify", message.clone());
        assert_eq!(
            shown["payload"]["callback"],
            "http://h/v1/webhook_verifications/[redacted]"
        );
        assert_eq!(
            redact_verification("person.create", message.clone()),
            message
        );
    }
}
