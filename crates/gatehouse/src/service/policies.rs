//! Webhook policies (docs/PRODUCT.md "Webhook policies"), maintained by account and directory
//! administrators: the algorithm, claim expiry and audience with which the messages of linked
//! webhooks are signed, and the policy's key pairs.
//!
//! The private key is generated here (off the async executor: RSA takes a while), sealed by the
//! server key and never shown. The public key is shown once, in the answer to the create or
//! rotate call (Xurrent's one-time rule); no later read returns it. A rotation adds a key that
//! starts signing when the overlap ends, so receivers can install it before it is used; every
//! message names its key in the JWS `kid` header.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::OrNotFound;
use super::validate::{NAME_MAX_CHARS, Problems, rotation_overlap};
use super::{Principal, ServiceError, ServiceResult, Services, require_scope};
use crate::auth::{Resource, Scope};
use crate::delivery::signing::SigningKey;
use crate::domain::message::node_id;
use crate::domain::{
    Account, JwtFormat, NewEvent, PolicyKey, WebhookId, WebhookPolicy, WebhookPolicyId,
    signing_key_at,
};
use crate::domain::{ClaimExpiry, JwtAlgorithm};
use crate::store::{ListQuery, Listing, WebhookFilter};

const POLICIES_READ: Scope = Scope::read(Resource::WebhookPolicies);
const POLICIES_WRITE: Scope = Scope::write(Resource::WebhookPolicies);

/// The longest overlap a key rotation may ask for: 30 days.
pub const MAX_KEY_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
/// The overlap when a rotation names none: one day, for receivers to install the new key.
pub const DEFAULT_KEY_OVERLAP_SECONDS: i64 = 24 * 3600;
/// `jwt_claim_expires_in` when a new policy names none, in minutes.
pub const DEFAULT_CLAIM_EXPIRES_IN_MINUTES: i64 = 5;
/// The longest audience accepted.
const AUDIENCE_MAX_CHARS: usize = 2_000;

/// A policy as an administrator describes it.
#[derive(Clone, Debug, Default)]
pub struct NewWebhookPolicy {
    pub name: String,
    pub jwt_alg: String,
    pub jwt_claim_expires_in: Option<i64>,
    pub jwt_audience: Option<String>,
    pub jwt_format: Option<JwtFormat>,
    pub disabled: bool,
    /// Webhooks to link at once.
    pub webhook_ids: Option<Vec<Uuid>>,
}

/// What a change names; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WebhookPolicyChanges {
    pub name: Option<String>,
    /// Refused unless it names the current algorithm: keys are made for one algorithm.
    pub jwt_alg: Option<String>,
    pub jwt_claim_expires_in: Option<i64>,
    pub jwt_audience: Option<Option<String>>,
    pub jwt_format: Option<JwtFormat>,
    pub disabled: Option<bool>,
    /// Exactly these webhooks are linked afterwards.
    pub webhook_ids: Option<Vec<Uuid>>,
}

/// One of a policy's keys, without any key material.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyKeyView {
    /// The JWS `kid` of messages it signs.
    pub key_id: String,
    pub active_from: DateTime<Utc>,
    /// Whether it signs now.
    pub signing: bool,
    pub created_at: DateTime<Utc>,
}

/// A policy as REST, the console and events show it. Never holds key material.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookPolicyView {
    pub id: Uuid,
    #[serde(rename = "nodeID")]
    pub node_id: String,
    pub account_id: String,
    pub name: String,
    /// `rs256` … `es512`, `eddsa`, `hs256` … `hs512`; receivers must pin it.
    pub jwt_alg: String,
    /// Minutes from signing until the `exp` claim.
    pub jwt_claim_expires_in: i64,
    pub jwt_audience: Option<String>,
    pub jwt_format: JwtFormat,
    pub disabled: bool,
    /// The linked webhooks.
    pub webhook_ids: Vec<Uuid>,
    /// The key that signs now (`kid`).
    pub key_id: Option<String>,
    pub keys: Vec<PolicyKeyView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookPolicyView {
    /// `keys` may hold other policies' keys too (a page's, read at once): only this one's count.
    pub fn new(
        policy: &WebhookPolicy,
        webhook_ids: Vec<Uuid>,
        keys: &[PolicyKey],
        now: DateTime<Utc>,
    ) -> Self {
        let keys: Vec<PolicyKey> = keys
            .iter()
            .filter(|key| key.policy_id == policy.id)
            .cloned()
            .collect();
        let signing = signing_key_at(&keys, now).map(|key| key.id.clone());
        Self {
            id: policy.id.0,
            node_id: node_id("WebhookPolicy", &policy.id.to_string()),
            account_id: policy.account_id.to_string(),
            name: policy.name.clone(),
            jwt_alg: policy.jwt_alg.as_str().to_owned(),
            jwt_claim_expires_in: policy.jwt_claim_expires_in.minutes(),
            jwt_audience: policy.jwt_audience.clone(),
            jwt_format: policy.jwt_format,
            disabled: policy.disabled,
            webhook_ids,
            keys: keys
                .iter()
                .map(|key| PolicyKeyView {
                    key_id: key.id.clone(),
                    active_from: key.active_from,
                    signing: Some(&key.id) == signing.as_ref(),
                    created_at: key.created_at,
                })
                .collect(),
            key_id: signing,
            created_at: policy.created_at,
            updated_at: policy.updated_at,
        }
    }
}

/// A key just made: the one time its public half is shown.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedPolicyKey {
    /// The JWS `kid` of messages it signs.
    pub key_id: String,
    pub active_from: DateTime<Utc>,
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`); `null` for the HS algorithms.
    pub public_key_pem: Option<String>,
    /// The same key as a JWK (RFC 7517), with `kid`, `alg` and `use`; `null` for HS.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub public_jwk: Option<Value>,
    /// For the HS algorithms only: the shared secret, base64url without padding. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for CreatedPolicyKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CreatedPolicyKey")
            .field("key_id", &self.key_id)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

fn key_associated_data(key_id: &str) -> Vec<u8> {
    format!("policy_key:{key_id}").into_bytes()
}

fn internal(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(error.to_string())
}

impl Services {
    /// Generates a key pair for `algorithm`, seals its private half and describes its public
    /// half (once).
    async fn new_policy_key(
        &self,
        policy: WebhookPolicyId,
        algorithm: JwtAlgorithm,
        active_from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ServiceResult<(PolicyKey, CreatedPolicyKey)> {
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(algorithm))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let key_id = Uuid::now_v7().to_string();
        let der = key.to_pkcs8_der().map_err(internal)?;
        let sealed = self
            .server_key
            .encrypt(&der, &key_associated_data(&key_id))
            .map_err(internal)?;
        let secret = (!algorithm.is_asymmetric()).then(|| {
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &*der)
        });
        let created = CreatedPolicyKey {
            public_key_pem: key.public_key_pem().map_err(internal)?,
            public_jwk: key.public_jwk(&key_id),
            secret,
            key_id: key_id.clone(),
            active_from,
        };
        let record = PolicyKey {
            id: key_id,
            policy_id: policy,
            jwt_alg: algorithm,
            sealed,
            active_from,
            created_at: now,
        };
        Ok((record, created))
    }

    /// Opens a stored key (the worker's view).
    pub fn open_policy_key(&self, key: &PolicyKey) -> ServiceResult<SigningKey> {
        let der = self
            .server_key
            .decrypt(&key.sealed, &key_associated_data(&key.id))
            .map_err(|error| internal(format!("policy key {}: {error}", key.id)))?;
        SigningKey::from_pkcs8_der(key.jwt_alg, &der).map_err(internal)
    }

    pub async fn create_webhook_policy(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        new: NewWebhookPolicy,
    ) -> ServiceResult<(WebhookPolicyView, CreatedPolicyKey)> {
        require_scope(principal, POLICIES_WRITE)?;
        let mut problems = Problems::default();
        let algorithm = match new.jwt_alg.parse::<JwtAlgorithm>() {
            Ok(algorithm) => Some(algorithm),
            Err(error) => {
                problems.push(format!("jwt_alg: {error}"));
                None
            }
        };
        let expires_in = check_policy_fields(
            &mut problems,
            &new.name,
            new.jwt_claim_expires_in
                .unwrap_or(DEFAULT_CLAIM_EXPIRES_IN_MINUTES),
            new.jwt_audience.as_deref(),
        );
        let links = match &new.webhook_ids {
            Some(ids) => Some(self.linkable(account, ids, &mut problems).await?),
            None => None,
        };
        problems.into_result()?;
        let (Some(algorithm), Some(expires_in)) = (algorithm, expires_in) else {
            return Err(ServiceError::invalid(vec!["invalid policy".to_owned()]));
        };
        let now = self.clock.now();
        let policy = WebhookPolicy {
            id: WebhookPolicyId(Uuid::now_v7()),
            account_id: account.id.clone(),
            name: new.name.trim().to_owned(),
            jwt_alg: algorithm,
            jwt_claim_expires_in: expires_in,
            jwt_audience: normalized_audience(new.jwt_audience),
            jwt_format: new.jwt_format.unwrap_or_default(),
            disabled: new.disabled,
            created_at: now,
            updated_at: now,
        };
        let (key, created) = self.new_policy_key(policy.id, algorithm, now, now).await?;
        let keys = [key];
        let view = WebhookPolicyView::new(
            &policy,
            links.iter().flatten().map(|id| id.0).collect(),
            &keys,
            now,
        );
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &account.id,
            "webhook_policy.create",
            policy.id.0,
            actor.as_ref(),
            json!(view),
            now,
        );
        let unknown = self
            .store
            .insert_webhook_policy(
                &policy,
                &keys[0],
                links.as_deref().unwrap_or_default(),
                &[event],
            )
            .await?;
        if !unknown.is_empty() {
            // A webhook deleted since it was checked.
            return Err(unknown_webhooks(&unknown));
        }
        Ok((view, created))
    }

    /// The webhooks `ids` name, each checked to be the account's.
    async fn linkable(
        &self,
        account: &Account,
        ids: &[Uuid],
        problems: &mut Problems,
    ) -> ServiceResult<Vec<WebhookId>> {
        let mut linkable = Vec::with_capacity(ids.len());
        for id in ids {
            if self
                .store
                .webhook(&account.id, WebhookId(*id))
                .await?
                .is_none()
            {
                problems.push(format!(
                    "webhook_ids: no webhook {id} exists in this account"
                ));
            } else if !linkable.contains(&WebhookId(*id)) {
                linkable.push(WebhookId(*id));
            }
        }
        Ok(linkable)
    }

    pub async fn update_webhook_policy(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookPolicyId,
        changes: WebhookPolicyChanges,
    ) -> ServiceResult<WebhookPolicyView> {
        require_scope(principal, POLICIES_WRITE)?;
        let before = self.policy_of(account, id).await?;
        let mut policy = before.clone();
        let mut problems = Problems::default();
        if let Some(algorithm) = &changes.jwt_alg {
            match algorithm.parse::<JwtAlgorithm>() {
                Ok(algorithm) if algorithm == policy.jwt_alg => {}
                Ok(_) => problems.push(format!(
                    "jwt_alg can't change from {}: a policy's keys are made for its algorithm; \
                     create a new policy with the other algorithm and link the webhooks to it",
                    policy.jwt_alg
                )),
                Err(error) => problems.push(format!("jwt_alg: {error}")),
            }
        }
        if let Some(name) = changes.name {
            policy.name = name.trim().to_owned();
        }
        if let Some(audience) = changes.jwt_audience {
            policy.jwt_audience = normalized_audience(audience);
        }
        if let Some(format) = changes.jwt_format {
            policy.jwt_format = format;
        }
        if let Some(disabled) = changes.disabled {
            policy.disabled = disabled;
        }
        let expires_in = check_policy_fields(
            &mut problems,
            &policy.name,
            changes
                .jwt_claim_expires_in
                .unwrap_or(policy.jwt_claim_expires_in.minutes()),
            policy.jwt_audience.as_deref(),
        );
        if let Some(expires_in) = expires_in {
            policy.jwt_claim_expires_in = expires_in;
        }
        let links = match &changes.webhook_ids {
            Some(ids) => Some(self.linkable(account, ids, &mut problems).await?),
            None => None,
        };
        problems.into_result()?;
        let now = self.clock.now();
        let current_links = self.links_of(account, &[policy.id]).await?;
        let linked: Vec<Uuid> = match &links {
            Some(links) => links.iter().map(|id| id.0).collect(),
            None => current_links.clone(),
        };
        if policy == before && linked == current_links {
            return self.policy_view(&policy, linked, now).await;
        }
        policy.updated_at = now;
        let keys = self.store.policy_keys(&[policy.id]).await?;
        let view = WebhookPolicyView::new(&policy, linked, &keys, now);
        let event = NewEvent::new(
            &account.id,
            "webhook_policy.update",
            policy.id.0,
            principal.map(Principal::actor).as_ref(),
            json!(view),
            now,
        );
        match self
            .store
            .update_webhook_policy(&policy, links.as_deref(), &[event])
            .await?
        {
            None => Err(ServiceError::NotFound("Webhook policy")),
            Some(unknown) if !unknown.is_empty() => Err(unknown_webhooks(&unknown)),
            Some(_) => Ok(view),
        }
    }

    /// Deletes a policy no webhook links to (a linked webhook would otherwise send unsigned).
    pub async fn delete_webhook_policy(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookPolicyId,
    ) -> ServiceResult<()> {
        require_scope(principal, POLICIES_WRITE)?;
        let policy = self.policy_of(account, id).await?;
        let now = self.clock.now();
        let event = NewEvent::new(
            &account.id,
            "webhook_policy.delete",
            policy.id.0,
            principal.map(Principal::actor).as_ref(),
            json!({ "id": policy.id, "name": policy.name }),
            now,
        );
        match self
            .store
            .delete_webhook_policy(&account.id, id, &[event])
            .await?
        {
            None => Err(ServiceError::NotFound("Webhook policy")),
            Some(0) => Ok(()),
            Some(linked) => Err(ServiceError::Conflict(format!(
                "{linked} webhook(s) are linked to this policy; unlink them (or link them to \
                 another policy) first, so that none sends unsigned"
            ))),
        }
    }

    /// Adds a new key pair; it starts signing after `overlap_seconds` (default one day), until
    /// when the current key goes on signing. The answer is the only time the new public key is
    /// shown.
    pub async fn rotate_webhook_policy(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookPolicyId,
        overlap_seconds: Option<i64>,
    ) -> ServiceResult<CreatedPolicyKey> {
        require_scope(principal, POLICIES_WRITE)?;
        let overlap = rotation_overlap(
            overlap_seconds,
            DEFAULT_KEY_OVERLAP_SECONDS,
            MAX_KEY_OVERLAP_SECONDS,
        )?;
        let policy = self.policy_of(account, id).await?;
        let now = self.clock.now();
        let keys = self.store.policy_keys(&[policy.id]).await?;
        if let Some(pending) = keys.iter().find(|key| key.active_from > now) {
            return Err(ServiceError::Conflict(format!(
                "a rotation is already under way: key {} starts signing at {}",
                pending.id,
                pending.active_from.to_rfc3339()
            )));
        }
        let active_from = now + overlap;
        let (key, created) = self
            .new_policy_key(policy.id, policy.jwt_alg, active_from, now)
            .await?;
        let event = NewEvent::new(
            &account.id,
            "webhook_policy.rotate",
            policy.id.0,
            principal.map(Principal::actor).as_ref(),
            json!({
                "id": policy.id,
                "key_id": key.id,
                "active_from": active_from,
            }),
            now,
        );
        // A superseded key's last messages expire at most one claim expiry after it stopped
        // signing; keep it that long at least.
        let retire_before = now - Duration::seconds(ClaimExpiry::MAX_MINUTES * 60);
        self.store
            .insert_policy_key(&key, retire_before, &[event])
            .await?;
        self.signing_changed();
        Ok(created)
    }

    pub async fn webhook_policy(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookPolicyId,
    ) -> ServiceResult<WebhookPolicyView> {
        require_scope(principal, POLICIES_READ)?;
        let policy = self.policy_of(account, id).await?;
        let links = self.links_of(account, &[policy.id]).await?;
        self.policy_view(&policy, links, self.clock.now()).await
    }

    pub async fn webhook_policies(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<WebhookPolicyView>> {
        require_scope(principal, POLICIES_READ)?;
        let listing = self
            .store
            .webhook_policies(&account.id, filter, query)
            .await?;
        let ids: Vec<WebhookPolicyId> = listing.items.iter().map(|policy| policy.id).collect();
        // Two queries for the page, not two per policy.
        let links = self.store.policy_links(&account.id, &ids).await?;
        let keys = self.store.policy_keys(&ids).await?;
        let now = self.clock.now();
        Ok(listing.views(|policy| {
            let linked = links
                .iter()
                .filter(|(owner, _)| *owner == policy.id)
                .map(|(_, webhook)| webhook.0)
                .collect();
            WebhookPolicyView::new(policy, linked, &keys, now)
        }))
    }

    async fn policy_view(
        &self,
        policy: &WebhookPolicy,
        links: Vec<Uuid>,
        now: DateTime<Utc>,
    ) -> ServiceResult<WebhookPolicyView> {
        let keys = self.store.policy_keys(&[policy.id]).await?;
        Ok(WebhookPolicyView::new(policy, links, &keys, now))
    }

    async fn links_of(
        &self,
        account: &Account,
        policies: &[WebhookPolicyId],
    ) -> ServiceResult<Vec<Uuid>> {
        Ok(self
            .store
            .policy_links(&account.id, policies)
            .await?
            .into_iter()
            .map(|(_, webhook)| webhook.0)
            .collect())
    }

    async fn policy_of(
        &self,
        account: &Account,
        id: WebhookPolicyId,
    ) -> ServiceResult<WebhookPolicy> {
        self.store
            .webhook_policy(&account.id, id)
            .await
            .or_not_found("Webhook policy")
    }
}

/// Checks name, expiry and audience; returns the expiry when valid.
fn check_policy_fields(
    problems: &mut Problems,
    name: &str,
    expires_in_minutes: i64,
    audience: Option<&str>,
) -> Option<ClaimExpiry> {
    problems.required_text("name", name.trim(), NAME_MAX_CHARS);
    problems.optional_text("jwt_audience", audience, AUDIENCE_MAX_CHARS);
    match ClaimExpiry::from_minutes(expires_in_minutes) {
        Ok(expiry) => Some(expiry),
        Err(error) => {
            problems.push(error.to_string());
            None
        }
    }
}

fn unknown_webhooks(ids: &[WebhookId]) -> ServiceError {
    ServiceError::invalid(
        ids.iter()
            .map(|id| format!("webhook_ids: no webhook {id} exists in this account"))
            .collect(),
    )
}

fn normalized_audience(audience: Option<String>) -> Option<String> {
    audience
        .map(|audience| audience.trim().to_owned())
        .filter(|audience| !audience.is_empty())
}
