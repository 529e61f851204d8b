//! A webhook's Standard Webhooks signing secrets (`whsec_…`): born with the webhook, shown in
//! its create response, readable again by administrators, rotatable with an overlap during
//! which the message is signed with the old and the new secret. Stored sealed by the server
//! key, bound to the secret's id.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::validate::rotation_overlap;
use super::webhooks::WEBHOOKS_WRITE;
use super::{Principal, ServiceError, ServiceResult, Services, require_scope};
use crate::delivery::signing::standard_webhooks::WebhookSecret;
use crate::domain::{Account, NewEvent, WebhookId, WebhookSecretRecord};

/// The longest overlap a secret rotation may ask for: 30 days.
pub const MAX_SECRET_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
/// The overlap when a rotation names none: one day.
pub const DEFAULT_SECRET_OVERLAP_SECONDS: i64 = 24 * 3600;

/// A live secret as administrators see it.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookSecretView {
    /// `whsec_` and the base64 of the key, what the `standardwebhooks` libraries take.
    pub signing_secret: String,
    pub created_at: DateTime<Utc>,
    /// When it stops signing; `null` for the current secret.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for WebhookSecretView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookSecretView")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a rotation answers: the new secret, and until when the previous ones sign along.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    #[serde(flatten)]
    pub secret: WebhookSecretView,
    pub previous_expires_at: DateTime<Utc>,
}

/// What a URI password is sealed with besides the server key: the webhook it belongs to, so a
/// sealed value copied to another webhook does not open.
fn uri_password_data(webhook: WebhookId) -> Vec<u8> {
    format!("webhook_uri_password:{webhook}").into_bytes()
}

fn associated_data(id: Uuid) -> Vec<u8> {
    format!("webhook_secret:{id}").into_bytes()
}

impl Services {
    /// A new secret for `webhook`, and its sealed record.
    pub(super) fn new_webhook_secret(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> ServiceResult<(WebhookSecret, WebhookSecretRecord)> {
        let secret =
            WebhookSecret::generate().map_err(|error| ServiceError::Internal(error.to_string()))?;
        let id = Uuid::now_v7();
        let sealed = self
            .server_key
            .encrypt(secret.expose().as_bytes(), &associated_data(id))
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        let record = WebhookSecretRecord {
            id,
            webhook_id: webhook,
            sealed,
            created_at: now,
            expires_at: None,
        };
        Ok((secret, record))
    }

    /// Seals the basic-authentication password of a webhook's URI, bound to the webhook.
    pub(super) fn seal_uri_password(
        &self,
        webhook: WebhookId,
        password: &str,
    ) -> ServiceResult<Vec<u8>> {
        self.server_key
            .encrypt(password.as_bytes(), &uri_password_data(webhook))
            .map_err(|error| ServiceError::Internal(error.to_string()))
    }

    /// Opens what `seal_uri_password` sealed.
    pub fn open_uri_password(
        &self,
        webhook: WebhookId,
        sealed: &[u8],
    ) -> ServiceResult<zeroize::Zeroizing<String>> {
        let text = self
            .server_key
            .decrypt(sealed, &uri_password_data(webhook))
            .map_err(|error| {
                ServiceError::Internal(format!("the URI password of webhook {webhook}: {error}"))
            })?;
        String::from_utf8(text.to_vec())
            .map(zeroize::Zeroizing::new)
            .map_err(|_| ServiceError::Internal(format!("webhook {webhook}'s URI password")))
    }

    /// Opens a stored secret.
    pub fn open_webhook_secret(
        &self,
        record: &WebhookSecretRecord,
    ) -> ServiceResult<WebhookSecret> {
        let text = self
            .server_key
            .decrypt(&record.sealed, &associated_data(record.id))
            .map_err(|error| {
                ServiceError::Internal(format!(
                    "webhook secret {} of webhook {}: {error}",
                    record.id, record.webhook_id
                ))
            })?;
        let text = std::str::from_utf8(&text).map_err(|_| {
            ServiceError::Internal(format!("webhook secret {} is not text", record.id))
        })?;
        WebhookSecret::parse(text).map_err(|error| ServiceError::Internal(error.to_string()))
    }

    /// The live secrets of a webhook, for its administrators (a token needs `webhooks:write`:
    /// a secret lets its holder forge messages).
    pub async fn webhook_signing_secrets(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
    ) -> ServiceResult<Vec<WebhookSecretView>> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let webhook = self.webhook_of(account, id).await?;
        let records = self
            .store
            .webhook_secrets(webhook.id, self.clock.now())
            .await?;
        records
            .iter()
            .map(|record| {
                Ok(WebhookSecretView {
                    signing_secret: self.open_webhook_secret(record)?.expose().to_string(),
                    created_at: record.created_at,
                    expires_at: record.expires_at,
                })
            })
            .collect()
    }

    /// Makes a new secret current; the previous ones keep signing for `overlap_seconds`
    /// (default one day, 0 to stop at once), so receivers can switch without a failed check.
    pub async fn rotate_webhook_secret(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
        overlap_seconds: Option<i64>,
    ) -> ServiceResult<RotatedSecret> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let overlap = rotation_overlap(
            overlap_seconds,
            DEFAULT_SECRET_OVERLAP_SECONDS,
            MAX_SECRET_OVERLAP_SECONDS,
        )?;
        let webhook = self.webhook_of(account, id).await?;
        let now = self.clock.now();
        let (secret, record) = self.new_webhook_secret(webhook.id, now)?;
        let previous_until = now + overlap;
        let event = NewEvent::new(
            &account.id,
            "webhook.update",
            webhook.id,
            principal.map(Principal::actor).as_ref(),
            json!({
                "id": webhook.id,
                "signing_secret_rotated_at": now,
                "previous_secrets_expire_at": previous_until,
            }),
            now,
        );
        self.store
            .rotate_webhook_secret(&record, previous_until, now, &[event])
            .await?;
        self.signing_changed();
        Ok(RotatedSecret {
            secret: WebhookSecretView {
                signing_secret: secret.expose().to_string(),
                created_at: now,
                expires_at: None,
            },
            previous_expires_at: previous_until,
        })
    }
}
