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
    Account, AccountId, JwtFormat, NewEvent, PolicyKey, WebhookId, WebhookPolicy, WebhookPolicyId,
    discovery_issuer, signing_key_at,
};
use crate::domain::{ClaimExpiry, ClaimExpiryInput, JwtAlgorithm, RecordSource};
use crate::store::{ListQuery, Listing, NewPolicyKey, WebhookFilter};

const POLICIES_READ: Scope = Scope::read(Resource::WebhookPolicies);
const POLICIES_WRITE: Scope = Scope::write(Resource::WebhookPolicies);

/// The longest overlap a key rotation may ask for: 30 days.
pub const MAX_KEY_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
/// The overlap when a rotation names none: one day, for receivers to install the new key.
pub const DEFAULT_KEY_OVERLAP_SECONDS: i64 = 24 * 3600;
/// `jwt_claim_expires_in` when a new policy names none, in minutes.
/// The longest audience accepted.
const AUDIENCE_MAX_CHARS: usize = 2_000;

/// A policy as an administrator describes it.
#[derive(Clone, Debug, Default)]
pub struct NewWebhookPolicy {
    /// `None` (or blank): a name is generated, as Xurrent does (56 hex characters).
    pub name: Option<String>,
    pub jwt_alg: String,
    /// `None`: messages carry no `exp` claim (Xurrent's default).
    pub jwt_claim_expires_in: Option<ClaimExpiryInput>,
    pub jwt_audience: Option<String>,
    pub jwt_format: Option<JwtFormat>,
    pub disabled: bool,
    /// Webhooks to link at once.
    pub webhook_ids: Option<Vec<Uuid>>,
    pub source: RecordSource,
}

/// What a change names; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WebhookPolicyChanges {
    pub name: Option<String>,
    /// Another algorithm makes a new key for it, which signs at once (as a rotation without
    /// overlap); its public half is in the answer, this once.
    pub jwt_alg: Option<String>,
    /// `Some(None)` removes the expiry: no `exp` claim.
    pub jwt_claim_expires_in: Option<Option<ClaimExpiryInput>>,
    pub jwt_audience: Option<Option<String>>,
    pub jwt_format: Option<JwtFormat>,
    pub disabled: Option<bool>,
    /// Exactly these webhooks are linked afterwards.
    pub webhook_ids: Option<Vec<Uuid>>,
    /// `Some(None)` clears it.
    pub source: Option<Option<String>>,
    pub source_id: Option<Option<String>>,
}

/// What a policy's OpenID Connect issuer publishes.
#[derive(Clone, Debug)]
pub struct PolicyIssuer {
    /// `<account URL>/webhook_policies/<policy name>`, as its messages' `iss` names it.
    pub issuer: String,
    pub algorithm: JwtAlgorithm,
    /// Public JWKs (`kid`, `kty`, `use`, `alg`): the key that signs now and any next one.
    pub keys: Vec<Value>,
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
    /// Minutes from signing until the `exp` claim; `null`: messages carry no `exp`.
    pub jwt_claim_expires_in: Option<i64>,
    pub jwt_audience: Option<String>,
    pub jwt_format: JwtFormat,
    pub disabled: bool,
    /// The integration that made it (Xurrent's generic field, at most 30 characters).
    pub source: Option<String>,
    /// That integration's id for it (at most 128 characters).
    #[serde(rename = "sourceID")]
    pub source_id: Option<String>,
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
            jwt_claim_expires_in: policy.jwt_claim_expires_in.map(ClaimExpiry::minutes),
            jwt_audience: policy.jwt_audience.clone(),
            jwt_format: policy.jwt_format,
            disabled: policy.disabled,
            source: policy.source.source.clone(),
            source_id: policy.source.source_id.clone(),
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
        let name = match new.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => generated_policy_name()?,
        };
        check_policy_fields(&mut problems, &name, new.jwt_audience.as_deref());
        self.check_name_free(account, &name, None, &mut problems)
            .await?;
        problems.record_source(&new.source);
        let expires_in = claim_expiry(&mut problems, new.jwt_claim_expires_in.as_ref());
        let links = match &new.webhook_ids {
            Some(ids) => Some(self.linkable(account, ids, &mut problems).await?),
            None => None,
        };
        if new.disabled && links.as_ref().is_some_and(|links| !links.is_empty()) {
            problems.push(LINKING_DISABLED.to_owned());
        }
        problems.into_result()?;
        let (Some(algorithm), Ok(expires_in)) = (algorithm, expires_in) else {
            return Err(ServiceError::invalid(vec!["invalid policy".to_owned()]));
        };
        let now = self.clock.now();
        let policy = WebhookPolicy {
            id: WebhookPolicyId(Uuid::now_v7()),
            account_id: account.id.clone(),
            name,
            jwt_alg: algorithm,
            jwt_claim_expires_in: expires_in,
            jwt_audience: normalized_audience(new.jwt_audience),
            jwt_format: new.jwt_format.unwrap_or_default(),
            source: new.source,
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
    ) -> ServiceResult<(WebhookPolicyView, Option<CreatedPolicyKey>)> {
        require_scope(principal, POLICIES_WRITE)?;
        let before = self.policy_of(account, id).await?;
        let mut policy = before.clone();
        let mut problems = Problems::default();
        let new_algorithm = match changes.jwt_alg.as_deref().map(str::parse::<JwtAlgorithm>) {
            Some(Ok(algorithm)) if algorithm != policy.jwt_alg => Some(algorithm),
            Some(Err(error)) => {
                problems.push(format!("jwt_alg: {error}"));
                None
            }
            _ => None,
        };
        policy.source = policy.source.changed(changes.source, changes.source_id);
        problems.record_source(&policy.source);
        if let Some(algorithm) = new_algorithm
            && !algorithm.is_asymmetric()
            && self.publishes_keys(account, &before).await?
        {
            problems.push(format!(
                "jwt_alg: {algorithm} signs with a shared secret, but webhooks linked to this \
                 policy use OpenID Connect discovery, which publishes public keys; turn it off \
                 on them first"
            ));
        }
        if let Some(name) = changes.name {
            policy.name = name.trim().to_owned();
        }
        if policy.name != before.name {
            self.check_name_free(account, &policy.name, Some(policy.id), &mut problems)
                .await?;
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
        check_policy_fields(&mut problems, &policy.name, policy.jwt_audience.as_deref());
        if let Some(input) = &changes.jwt_claim_expires_in
            && let Ok(expires_in) = claim_expiry(&mut problems, input.as_ref())
        {
            policy.jwt_claim_expires_in = expires_in;
        }
        let links = match &changes.webhook_ids {
            Some(ids) => Some(self.linkable(account, ids, &mut problems).await?),
            None => None,
        };
        let current_links = self.links_of(account, &[policy.id]).await?;
        let linked: Vec<Uuid> = match &links {
            Some(links) => links.iter().map(|id| id.0).collect(),
            None => current_links.clone(),
        };
        if policy.disabled && linked.iter().any(|id| !current_links.contains(id)) {
            problems.push(LINKING_DISABLED.to_owned());
        }
        problems.into_result()?;
        let now = self.clock.now();
        if policy == before && linked == current_links && new_algorithm.is_none() {
            return Ok((self.policy_view(&policy, linked, now).await?, None));
        }
        policy.updated_at = now;
        let mut keys = self.store.policy_keys(&[policy.id]).await?;
        // Another algorithm needs another key: made as a rotation without overlap makes one.
        let new_key = match new_algorithm {
            Some(algorithm) => {
                refuse_during_rotation(&keys, now)?;
                policy.jwt_alg = algorithm;
                let (key, created) = self.new_policy_key(policy.id, algorithm, now, now).await?;
                keys.push(key.clone());
                Some((key, created))
            }
            None => None,
        };
        let view = WebhookPolicyView::new(&policy, linked, &keys, now);
        let event = NewEvent::new(
            &account.id,
            "webhook_policy.update",
            policy.id.0,
            principal.map(Principal::actor).as_ref(),
            json!(view),
            now,
        );
        let stored_key = new_key.as_ref().map(|(key, _)| NewPolicyKey {
            key,
            retire_before: retire_before(now),
        });
        let outcome = self
            .store
            .update_webhook_policy(&policy, links.as_deref(), stored_key, &[event])
            .await?;
        match outcome {
            None => Err(ServiceError::NotFound("Webhook policy")),
            Some(unknown) if !unknown.is_empty() => Err(unknown_webhooks(&unknown)),
            Some(_) => {
                if new_key.is_some() {
                    self.signing_changed();
                }
                Ok((view, new_key.map(|(_, created)| created)))
            }
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
        refuse_during_rotation(&keys, now)?;
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
        let new_key = NewPolicyKey {
            key: &key,
            retire_before: retire_before(now),
        };
        self.store.insert_policy_key(new_key, &[event]).await?;
        self.signing_changed();
        Ok(created)
    }

    /// Notes a problem when another policy of the account is named `name`: names are unique
    /// in an account, as they name the OpenID Connect issuer of the policy's messages.
    async fn check_name_free(
        &self,
        account: &Account,
        name: &str,
        except: Option<WebhookPolicyId>,
        problems: &mut Problems,
    ) -> ServiceResult<()> {
        let named = self
            .store
            .webhook_policies_named(&account.id, name, false)
            .await?;
        if named.iter().any(|policy| Some(policy.id) != except) {
            problems.push(format!(
                "name: another webhook policy of this account is named {name:?}; names are \
                 unique in an account (they name the issuer of its messages)"
            ));
        }
        Ok(())
    }

    /// Whether a webhook asking for OpenID Connect discovery links to `policy`.
    async fn publishes_keys(
        &self,
        account: &Account,
        policy: &WebhookPolicy,
    ) -> ServiceResult<bool> {
        Ok(self
            .store
            .webhook_policies_named(&account.id, &policy.name, true)
            .await?
            .iter()
            .any(|published| published.id == policy.id))
    }

    /// What the OpenID Connect issuer `<account URL>/webhook_policies/<name>` serves, publicly:
    /// the policy's key that signs now and, during a rotation, the next. Only for the one
    /// asymmetric policy of that name a webhook asking for discovery links to; otherwise there
    /// is no such issuer.
    pub async fn policy_issuer(&self, account: &str, name: &str) -> ServiceResult<PolicyIssuer> {
        let account = AccountId::parse(account).map_err(|_| ServiceError::NotFound("Issuer"))?;
        let mut policies = self
            .store
            .webhook_policies_named(&account, name, true)
            .await?;
        let policy = match (policies.pop(), policies.is_empty()) {
            (Some(policy), true) if policy.jwt_alg.is_asymmetric() => policy,
            _ => return Err(ServiceError::NotFound("Issuer")),
        };
        let now = self.clock.now();
        let records = self.store.policy_keys(&[policy.id]).await?;
        let signing = signing_key_at(&records, now).map(|key| key.id.clone());
        let mut keys = Vec::new();
        for record in records
            .iter()
            .filter(|key| Some(&key.id) == signing.as_ref() || key.active_from > now)
        {
            keys.extend(self.open_policy_key(record)?.public_jwk(&record.id));
        }
        Ok(PolicyIssuer {
            issuer: discovery_issuer(&self.base_url, &account, &policy.name),
            algorithm: policy.jwt_alg,
            keys,
        })
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
/// Refuses a new key while a rotation waits for its key to start signing.
fn refuse_during_rotation(keys: &[PolicyKey], now: DateTime<Utc>) -> ServiceResult<()> {
    match keys.iter().find(|key| key.active_from > now) {
        Some(pending) => Err(ServiceError::Conflict(format!(
            "a rotation is already under way: key {} starts signing at {}",
            pending.id,
            pending.active_from.to_rfc3339()
        ))),
        None => Ok(()),
    }
}

/// Before when a key superseded by a new one may go: its last messages expire at most one
/// claim expiry after it stopped signing, so it is kept that long at least.
fn retire_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::seconds(ClaimExpiry::MAX_MINUTES * 60)
}

/// A policy name as Xurrent generates one: 56 hex characters (224 random bits, so unique in
/// the account, and in the OpenID Connect issuer URLs made of it, without a look-up).
fn generated_policy_name() -> ServiceResult<String> {
    let mut bytes = [0u8; 28];
    getrandom::fill(&mut bytes).map_err(|error| internal(format!("no randomness: {error}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Why new links to a disabled policy are refused (as in Xurrent); webhooks linked before it
/// was disabled stay linked, their deliveries held back.
const LINKING_DISABLED: &str =
    "webhook_ids: a disabled policy can't be linked to more webhooks; enable it first";

fn check_policy_fields(problems: &mut Problems, name: &str, audience: Option<&str>) {
    problems.required_text("name", name.trim(), NAME_MAX_CHARS);
    problems.optional_text("jwt_audience", audience, AUDIENCE_MAX_CHARS);
}

/// The expiry `input` writes (`None`: no `exp` claim); `Err` once its problem is noted.
fn claim_expiry(
    problems: &mut Problems,
    input: Option<&ClaimExpiryInput>,
) -> Result<Option<ClaimExpiry>, ()> {
    match input.map(ClaimExpiry::from_input).transpose() {
        Ok(expiry) => Ok(expiry),
        Err(error) => {
            problems.push(error.to_string());
            Err(())
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
