//! Webhooks: maintained by account and directory administrators. A new webhook, or one whose
//! URI changed, is inactive until the owner of the URI calls back the one-time URL its
//! `webhook.verify` message carries (within 24 hours); until then it is sent nothing else. As in
//! Xurrent, any change to a webhook still unverified sends a fresh callback, and a URI another
//! webhook of the account already verified needs no verification.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::OrNotFound;
use super::validate::Problems;
use super::{Principal, ServiceError, ServiceResult, Services, require_scope};
use crate::auth::{Resource, Scope};
use crate::domain::message::node_id;
use crate::domain::{
    Account, Actor, CATALOG, DisabledReason, EventPattern, NewEvent, RecordSource,
    URI_PASSWORD_MASK, VERIFY_EVENT, Webhook, WebhookId, WebhookPolicyId, split_uri_password,
    uri_masks_password,
};
use crate::store::{ListQuery, Listing, WebhookFilter};

pub(super) const WEBHOOKS_READ: Scope = Scope::read(Resource::Webhooks);
pub(super) const WEBHOOKS_WRITE: Scope = Scope::write(Resource::Webhooks);

/// The highest per-webhook rate limit accepted, in attempts per second.
pub const MAX_RATE_LIMIT_PER_SECOND: u32 = 10_000;

/// The prefix of verification secrets, so they are recognisable in a URL.
const VERIFICATION_PREFIX: &str = "ghv_";

/// A webhook as an administrator describes it.
#[derive(Clone, Debug, Default)]
pub struct NewWebhook {
    pub name: Option<String>,
    pub event: String,
    pub uri: String,
    pub disabled: bool,
    pub description: Option<String>,
    pub webhook_policy_id: Option<Uuid>,
    pub mail_exceptions_to: Option<String>,
    pub ordered: bool,
    pub rate_limit_per_second: Option<u32>,
    pub openid_connect_discovery: bool,
    pub source: RecordSource,
}

/// What a change names; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct WebhookChanges {
    pub name: Option<String>,
    pub event: Option<String>,
    pub uri: Option<String>,
    pub disabled: Option<bool>,
    pub description: Option<Option<String>>,
    pub webhook_policy_id: Option<Option<Uuid>>,
    pub mail_exceptions_to: Option<Option<String>>,
    pub ordered: Option<bool>,
    pub rate_limit_per_second: Option<Option<u32>>,
    pub openid_connect_discovery: Option<bool>,
    pub source: Option<Option<String>>,
    pub source_id: Option<Option<String>>,
}

/// Where a webhook stands, derived from its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookState {
    /// Waiting for the owner of the URI to call the verification callback.
    Unverified,
    Disabled,
    /// Active, but its latest attempt failed.
    Failing,
    Active,
}

/// The webhook as REST, the CLI and events show it. The verification secret is never part of it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    #[serde(rename = "nodeID")]
    pub node_id: String,
    pub account_id: String,
    pub name: String,
    /// A catalog event, a namespace wildcard such as `person.*`, or a custom event name.
    pub event: String,
    pub uri: String,
    pub disabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub description: Option<String>,
    pub webhook_policy_id: Option<Uuid>,
    /// Comma-separated addresses; empty means every account administrator.
    pub mail_exceptions_to: String,
    pub ordered: bool,
    pub rate_limit_per_second: Option<u32>,
    /// Its policy's messages carry `iss` = the policy's issuer
    /// (`<account URL>/webhook_policies/<policy name>`), which serves the policy's public keys
    /// by OpenID Connect discovery, and a `kid` header.
    pub openid_connect_discovery: bool,
    /// The integration that made it (Xurrent's generic field, at most 30 characters).
    pub source: Option<String>,
    /// That integration's id for it (at most 128 characters).
    #[serde(rename = "sourceID")]
    pub source_id: Option<String>,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification_sent_at: Option<DateTime<Utc>>,
    /// While unverified: when the verification callback last sent stops working (24 hours
    /// after it was sent); send the verification again for a new one.
    pub verification_expires_at: Option<DateTime<Utc>>,
    pub state: WebhookState,
    pub consecutive_failures: u32,
    pub last_delivery_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookView {
    pub fn new(webhook: &Webhook) -> Self {
        let state = if webhook.disabled {
            WebhookState::Disabled
        } else if webhook.verified_at.is_none() {
            WebhookState::Unverified
        } else if webhook.consecutive_failures > 0 {
            WebhookState::Failing
        } else {
            WebhookState::Active
        };
        Self {
            id: webhook.id.0,
            node_id: node_id("Webhook", &webhook.id.to_string()),
            account_id: webhook.account_id.to_string(),
            name: webhook.name.clone(),
            event: webhook.event.clone(),
            uri: webhook.uri.clone(),
            disabled: webhook.disabled,
            disabled_reason: webhook.disabled_reason,
            description: webhook.description.clone(),
            webhook_policy_id: webhook.webhook_policy_id,
            mail_exceptions_to: webhook.mail_exceptions_to.join(", "),
            ordered: webhook.ordered,
            rate_limit_per_second: webhook.rate_limit_per_second,
            openid_connect_discovery: webhook.openid_connect_discovery,
            source: webhook.source.source.clone(),
            source_id: webhook.source.source_id.clone(),
            verified: webhook.verified_at.is_some(),
            verified_at: webhook.verified_at,
            verification_sent_at: webhook.verification_sent_at,
            verification_expires_at: webhook.verification_expires_at(),
            state,
            consecutive_failures: webhook.consecutive_failures,
            last_delivery_id: webhook.last_delivery_id.map(|id| id.0),
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// A one-time verification secret and the hash the store keeps of it.
struct Verification {
    secret: String,
    hash: Vec<u8>,
}

impl Verification {
    fn generate() -> ServiceResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| {
            ServiceError::Forbidden(format!("no randomness available: {error}"))
        })?;
        let secret = format!(
            "{VERIFICATION_PREFIX}{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
        );
        let hash = verification_hash(&secret);
        Ok(Self { secret, hash })
    }
}

fn verification_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The `object_id` of a test send's message, as Xurrent sends it.
pub const TEST_OBJECT_ID: &str = "12345";

/// The event a test send is for: the webhook's own, or for a namespace wildcard (`person.*`)
/// the first catalog event of that namespace, else `<namespace>.test`.
fn test_event_name(pattern: &str) -> String {
    match pattern.strip_suffix(".*") {
        None => pattern.to_owned(),
        Some(namespace) => CATALOG
            .iter()
            .map(|event| event.name)
            .find(|name| EventPattern::Namespace(namespace.to_owned()).matches(name))
            .map_or_else(|| format!("{namespace}.test"), str::to_owned),
    }
}

/// The path of the callback a verification message carries, below the base URL.
pub const VERIFICATION_PATH: &str = "/v1/webhook_verifications";

/// A webhook just made, with its Standard Webhooks signing secret (`whsec_…`).
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub signing_secret: zeroize::Zeroizing<String>,
}

impl Services {
    pub async fn create_webhook(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        new: NewWebhook,
    ) -> ServiceResult<CreatedWebhook> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let now = self.clock.now();
        let mut webhook = Webhook {
            id: WebhookId(Uuid::now_v7()),
            account_id: account.id.clone(),
            name: String::new(),
            event: new.event,
            uri: String::new(),
            uri_password: None,
            disabled: new.disabled,
            disabled_reason: new.disabled.then_some(DisabledReason::Manual),
            description: new.description,
            webhook_policy_id: new.webhook_policy_id,
            mail_exceptions_to: Vec::new(),
            ordered: new.ordered,
            rate_limit_per_second: new.rate_limit_per_second,
            openid_connect_discovery: new.openid_connect_discovery,
            source: new.source,
            verified_at: None,
            verification_sent_at: Some(now),
            consecutive_failures: 0,
            last_exception_at: None,
            last_delivery_id: None,
            created_at: now,
            updated_at: now,
        };
        webhook.name = new.name.unwrap_or_else(|| webhook.event.clone());
        self.set_uri(&mut webhook, &new.uri, None)?;
        self.check_webhook(&mut webhook, new.mail_exceptions_to.as_deref(), true, true)
            .await?;
        let verification = self.start_verification(&mut webhook, now).await?;
        let actor = principal.map(Principal::actor);
        let events = self.change_events(
            "webhook.create",
            &webhook,
            actor.as_ref(),
            verification.as_ref(),
        );
        let (secret, secret_record) = self.new_webhook_secret(webhook.id, now)?;
        self.store
            .insert_webhook(
                &webhook,
                verification
                    .as_ref()
                    .map(|verification| verification.hash.as_slice()),
                &secret_record,
                &events,
            )
            .await?;
        Ok(CreatedWebhook {
            webhook,
            signing_secret: secret.expose(),
        })
    }

    /// Sets the URI as given; a password in it (`https://user:password@host/…`, as Xurrent
    /// documents for receivers that need basic authentication) is sealed apart and the URI
    /// keeps `***` in its place. A URI given with `***`, as it is shown, keeps `kept`.
    fn set_uri(
        &self,
        webhook: &mut Webhook,
        given: &str,
        kept: Option<&[u8]>,
    ) -> ServiceResult<()> {
        let (uri, password) = split_uri_password(given.trim());
        webhook.uri = uri;
        webhook.uri_password = match (password, kept) {
            (Some(password), _) => Some(self.seal_uri_password(webhook.id, &password)?),
            (None, Some(kept)) if uri_masks_password(&webhook.uri) => Some(kept.to_vec()),
            (None, None) if uri_masks_password(&webhook.uri) => {
                return Err(ServiceError::invalid(vec![format!(
                    "uri: {URI_PASSWORD_MASK} stands for a stored password, and this webhook has \
                     none; give the password itself"
                )]));
            }
            (None, _) => None,
        };
        Ok(())
    }

    /// Makes `webhook` wait for a new verification of its URI, or verifies it at once when
    /// another webhook of the account has verified that URI already. `None`: nothing to send.
    async fn start_verification(
        &self,
        webhook: &mut Webhook,
        now: DateTime<Utc>,
    ) -> ServiceResult<Option<Verification>> {
        if self
            .store
            .uri_verified(&webhook.account_id, &webhook.uri)
            .await?
        {
            webhook.verified_at = Some(now);
            webhook.verification_sent_at = None;
            return Ok(None);
        }
        webhook.verified_at = None;
        webhook.verification_sent_at = Some(now);
        Verification::generate().map(Some)
    }

    /// The events of a change to `webhook` (`webhook.create` or `webhook.update`, showing it
    /// as it is now), and its verification message when one is due.
    fn change_events(
        &self,
        name: &str,
        webhook: &Webhook,
        actor: Option<&Actor>,
        verification: Option<&Verification>,
    ) -> Vec<NewEvent> {
        let mut events = vec![NewEvent::new(
            &webhook.account_id,
            name,
            webhook.id,
            actor,
            json!(WebhookView::new(webhook)),
            webhook.updated_at,
        )];
        events.extend(self.verification_event(webhook, verification));
        events
    }

    /// The `webhook.verify` message carrying `verification`'s callback, which works until
    /// `expires_at` (Xurrent's callback names its expiry too).
    fn verification_event(
        &self,
        webhook: &Webhook,
        verification: Option<&Verification>,
    ) -> Option<NewEvent> {
        let verification = verification?;
        let sent_at = webhook.verification_sent_at?;
        Some(NewEvent::new(
            &webhook.account_id,
            VERIFY_EVENT,
            webhook.id,
            None,
            json!({
                "webhook_id": webhook.id,
                "uri": webhook.uri,
                "callback": format!("{}{VERIFICATION_PATH}/{}", self.base_url, verification.secret),
                "expires_at": webhook.verification_expires_at(),
            }),
            sent_at,
        ))
    }

    /// Validates and normalises a webhook's fields in place; `check_target` resolves the URI's
    /// host (at creation and whenever the URI changes), and `linking` says the webhook is being
    /// linked to its policy (which must then be enabled).
    async fn check_webhook(
        &self,
        webhook: &mut Webhook,
        mail_exceptions_to: Option<&str>,
        check_target: bool,
        linking: bool,
    ) -> ServiceResult<()> {
        let mut problems = Problems::default();
        problems.name_and_description(&webhook.name, webhook.description.as_deref());
        problems.record_source(&webhook.source);
        if webhook.event == VERIFY_EVENT {
            problems.push(format!(
                "event {VERIFY_EVENT} is sent only to the webhook being verified; it can't be subscribed to"
            ));
        } else if let Err(error) = EventPattern::parse(&webhook.event) {
            problems.push(error.to_string());
        }
        if let Some(rate) = webhook.rate_limit_per_second
            && !(1..=MAX_RATE_LIMIT_PER_SECOND).contains(&rate)
        {
            problems.push(format!(
                "rate_limit_per_second must be between 1 and {MAX_RATE_LIMIT_PER_SECOND}, not {rate}"
            ));
        }
        if let Some(text) = mail_exceptions_to {
            match crate::delivery::mail::parse_recipients(text) {
                Ok(recipients) => webhook.mail_exceptions_to = recipients,
                Err(errors) => {
                    for error in errors {
                        problems.push(format!("mail_exceptions_to: {error}"));
                    }
                }
            }
        }
        let policy = match webhook.webhook_policy_id {
            Some(id) => {
                let found = self
                    .store
                    .webhook_policy(&webhook.account_id, WebhookPolicyId(id))
                    .await?;
                if found.is_none() {
                    problems.push(format!(
                        "webhook_policy_id: no webhook policy {id} exists in this account"
                    ));
                }
                found
            }
            None => None,
        };
        if let Some(policy) = &policy
            && policy.disabled
            && linking
        {
            // As in Xurrent; a policy disabled once linked holds the deliveries back.
            problems.push(format!(
                "webhook_policy_id: webhook policy {:?} is disabled; enable it before linking \
                 webhooks to it",
                policy.name
            ));
        }
        if webhook.openid_connect_discovery {
            match &policy {
                Some(policy) if policy.jwt_alg.is_asymmetric() => {}
                Some(policy) => problems.push(format!(
                    "openid_connect_discovery: policy {:?} signs with a shared secret ({}); \
                     discovery publishes public keys, so it needs rs*, ps*, es* or eddsa",
                    policy.name, policy.jwt_alg
                )),
                None if webhook.webhook_policy_id.is_none() => problems.push(
                    "openid_connect_discovery: needs a webhook policy that signs with a public \
                     key (webhook_policy_id)"
                        .to_owned(),
                ),
                None => {}
            }
        }
        if let Err(problem) = crate::delivery::sender::check_uri_syntax(&webhook.uri) {
            problems.push(format!("uri: {problem}"));
        }
        problems.into_result()?;
        // Resolving the host is the one slow check: only for an otherwise valid webhook.
        if check_target && let Err(problem) = self.sender.check_uri(&webhook.uri).await {
            return Err(ServiceError::invalid(vec![format!("uri: {problem}")]));
        }
        Ok(())
    }

    pub async fn update_webhook(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
        changes: WebhookChanges,
    ) -> ServiceResult<Webhook> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let before = self.webhook_of(account, id).await?;
        let now = self.clock.now();
        let mut webhook = before.clone();
        if let Some(name) = changes.name {
            webhook.name = name;
        }
        if let Some(event) = changes.event {
            webhook.event = event;
        }
        if let Some(uri) = changes.uri {
            self.set_uri(&mut webhook, &uri, before.uri_password.as_deref())?;
        }
        if let Some(description) = changes.description {
            webhook.description = description;
        }
        if let Some(policy) = changes.webhook_policy_id {
            webhook.webhook_policy_id = policy;
        }
        if let Some(ordered) = changes.ordered {
            webhook.ordered = ordered;
        }
        if let Some(rate) = changes.rate_limit_per_second {
            webhook.rate_limit_per_second = rate;
        }
        if let Some(discovery) = changes.openid_connect_discovery {
            webhook.openid_connect_discovery = discovery;
        }
        webhook.source = webhook.source.changed(changes.source, changes.source_id);
        let mut reset_failures = false;
        if let Some(disabled) = changes.disabled
            && disabled != webhook.disabled
        {
            webhook.disabled = disabled;
            webhook.disabled_reason = disabled.then_some(DisabledReason::Manual);
            // Re-enabling gives the webhook a fresh run: Xurrent's count starts over.
            reset_failures = !disabled;
        }
        let uri_changed = webhook.uri != before.uri;
        let mail = match &changes.mail_exceptions_to {
            Some(Some(text)) => Some(text.as_str()),
            Some(None) => {
                webhook.mail_exceptions_to.clear();
                None
            }
            None => None,
        };
        let linking = webhook.webhook_policy_id != before.webhook_policy_id;
        self.check_webhook(&mut webhook, mail, uri_changed, linking)
            .await?;
        if webhook == before {
            return Ok(webhook);
        }
        // A new URI must be verified; so must, afresh, one still unverified when anything
        // changes (Xurrent sends a new callback on any update of an unverified webhook).
        let verification = if uri_changed || before.verified_at.is_none() {
            self.start_verification(&mut webhook, now).await?
        } else {
            None
        };
        webhook.updated_at = now;
        let actor = principal.map(Principal::actor);
        let events = self.change_events(
            "webhook.update",
            &webhook,
            actor.as_ref(),
            verification.as_ref(),
        );
        let updated = self
            .store
            .update_webhook(
                &webhook,
                verification
                    .as_ref()
                    .map(|verification| verification.hash.as_slice()),
                reset_failures,
                &events,
            )
            .await?;
        if !updated {
            return Err(ServiceError::NotFound("Webhook"));
        }
        if reset_failures {
            webhook.consecutive_failures = 0;
        }
        Ok(webhook)
    }

    /// Sends one message for the webhook's event, with the normal envelope and `object_id`
    /// `12345`, as Xurrent's "Test" does: also while the webhook is disabled (create it
    /// disabled, test it, enable it), signed like any other, to this webhook alone. Its
    /// delivery is in test mode. The URI must be verified first: a test is still a request to
    /// it.
    pub async fn send_test_message(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
    ) -> ServiceResult<()> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let webhook = self.webhook_of(account, id).await?;
        if webhook.verified_at.is_none() {
            return Err(ServiceError::Conflict(
                "the webhook's URI is not verified yet; call the callback of its webhook.verify \
                 message first (POST /v1/webhooks/{id}/verification sends it again)"
                    .to_owned(),
            ));
        }
        let mut event = NewEvent::new(
            &account.id,
            &test_event_name(&webhook.event),
            TEST_OBJECT_ID,
            principal.map(Principal::actor).as_ref(),
            json!({}),
            self.clock.now(),
        );
        event.test_for = Some(webhook.id.0);
        self.store.publish_event(&event, None).await?;
        Ok(())
    }

    /// Sends a new `webhook.verify` message (a new one-time callback; the old one stops working).
    pub async fn resend_verification(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
    ) -> ServiceResult<Webhook> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let mut webhook = self.webhook_of(account, id).await?;
        if webhook.verified_at.is_some() {
            return Err(ServiceError::Conflict(
                "the webhook is already verified; change its URI to verify a new one".to_owned(),
            ));
        }
        let now = self.clock.now();
        webhook.updated_at = now;
        let verification = self.start_verification(&mut webhook, now).await?;
        let events: Vec<NewEvent> = self
            .verification_event(&webhook, verification.as_ref())
            .into_iter()
            .collect();
        let hash = verification
            .as_ref()
            .map(|verification| verification.hash.as_slice());
        if !self
            .store
            .update_webhook(&webhook, hash, false, &events)
            .await?
        {
            return Err(ServiceError::NotFound("Webhook"));
        }
        Ok(webhook)
    }

    /// The verification callback: anyone holding the one-time secret may call it once, within
    /// 24 hours of its sending.
    pub async fn verify_webhook(&self, secret: &str) -> ServiceResult<Webhook> {
        if !secret.starts_with(VERIFICATION_PREFIX) || secret.len() > 100 {
            return Err(ServiceError::NotFound("Verification"));
        }
        let hash = verification_hash(secret);
        let mut webhook = self
            .store
            .webhook_awaiting_verification(&hash)
            .await
            .or_not_found("Verification")?;
        let now = self.clock.now();
        if let Some(expires_at) = webhook.verification_expires_at()
            && expires_at <= now
        {
            return Err(ServiceError::Gone(format!(
                "this verification callback expired at {}; send the verification again \
                 (POST /v1/webhooks/{}/verification, or the console's \"Send verification again\") \
                 for a new one",
                expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                webhook.id
            )));
        }
        webhook.verified_at = Some(now);
        webhook.updated_at = now;
        let event = NewEvent::new(
            &webhook.account_id,
            "webhook.update",
            webhook.id,
            None,
            json!(WebhookView::new(&webhook)),
            now,
        );
        if !self.store.verify_webhook(&webhook, &hash, &[event]).await? {
            return Err(ServiceError::NotFound("Verification"));
        }
        Ok(webhook)
    }

    pub async fn delete_webhook(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
    ) -> ServiceResult<()> {
        require_scope(principal, WEBHOOKS_WRITE)?;
        let webhook = self.webhook_of(account, id).await?;
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &account.id,
            "webhook.delete",
            id,
            actor.as_ref(),
            json!({ "id": webhook.id, "name": webhook.name, "event": webhook.event, "uri": webhook.uri }),
            self.clock.now(),
        );
        if !self.store.delete_webhook(&account.id, id, &[event]).await? {
            return Err(ServiceError::NotFound("Webhook"));
        }
        Ok(())
    }

    pub async fn webhook(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        id: WebhookId,
    ) -> ServiceResult<Webhook> {
        require_scope(principal, WEBHOOKS_READ)?;
        self.webhook_of(account, id).await
    }

    pub(super) async fn webhook_of(
        &self,
        account: &Account,
        id: WebhookId,
    ) -> ServiceResult<Webhook> {
        self.store
            .webhook(&account.id, id)
            .await
            .or_not_found("Webhook")
    }

    pub async fn webhooks(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<Webhook>> {
        require_scope(principal, WEBHOOKS_READ)?;
        Ok(self.store.webhooks(&account.id, filter, query).await?)
    }
}
