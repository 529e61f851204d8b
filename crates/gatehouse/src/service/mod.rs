//! Services: the rules. One public function per user intent, one transaction per call, and the
//! event it appends (docs/ARCHITECTURE.md "Layers and what may import what"). Handlers and the CLI call these; neither writes SQL.

mod accounts;
mod authentication;
mod clock;
mod console_sessions;
mod credential_cache;
mod deliveries;
mod delivery_ports;
mod error;
mod events;
mod overview;
mod people;
mod policies;
mod provisioning;
mod retention;
pub mod scim;
mod status;
mod tokens;
mod validate;
mod webhook_secrets;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{AccountChanges, NewAccount};
pub use authentication::{
    AuthFailure, INVALID_TOKEN_MESSAGE, Principal, ScimActing, ScimPrincipal,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use console_sessions::{
    CONSOLE_SESSION_MAX_HOURS, ConsoleSessionCookie, DEFAULT_CONSOLE_IDLE_TIMEOUT_MINS,
};
pub use credential_cache::{
    AccountCache, CredentialCache, DEFAULT_CREDENTIAL_CACHE_TTL, ProvisioningCache,
};
pub use deliveries::{DeliveryView, MAX_REDELIVERIES_PER_CALL, NotificationView};
pub use error::{ServiceError, ServiceResult};
pub use events::{IDEMPOTENCY_KEY_LIFETIME_HOURS, PublishEvent, PublishedEvent};
pub use overview::{
    OVERVIEW_DAYS, OVERVIEW_HOURS, Overview, Period, TroubledWebhook, WebhookActivity,
};
pub use people::{NewPerson, PersonChanges, PersonView};
pub use policies::{
    CreatedPolicyKey, DEFAULT_KEY_OVERLAP_SECONDS, MAX_KEY_OVERLAP_SECONDS, NewWebhookPolicy,
    PolicyIssuer, WebhookPolicyChanges, WebhookPolicyView,
};
pub use provisioning::{
    IssuedProvisioningCredential, PreviousSecretView, ProvisioningCredentialView,
    ProvisioningSecretView,
};
pub use retention::{PURGE_INTERVAL, Pacing, PurgeReport, PurgeScope, run_retention};
pub use status::{QueueView, ServerStatus};
pub use tokens::{
    CreatedToken, DEFAULT_TOKEN_EXPIRY_DAYS, NewToken, TOKEN_EXPIRY_CHOICES_DAYS, TokenChanges,
    TokenExpiry, TokenView,
};
pub use webhook_secrets::{MAX_SECRET_OVERLAP_SECONDS, RotatedSecret, WebhookSecretView};
pub use webhooks::{
    CreatedWebhook, MAX_RATE_LIMIT_PER_SECOND, NewWebhook, VERIFICATION_PATH, WebhookChanges,
    WebhookState, WebhookView,
};

use crate::delivery::sender::{Sender, SenderSettings};
use crate::delivery::signing::ServerKey;
use crate::store::Store;

/// The base URL links use when nothing else is configured (the CLI, tests).
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// Everything a request needs, cheap to clone: held in axum's `State`.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    credentials: Arc<CredentialCache>,
    /// The accounts requests act in, forgotten on the same signals as credentials.
    accounts: Arc<AccountCache>,
    /// SCIM provisioning secrets, forgotten with the credentials.
    provisioning: Arc<ProvisioningCache>,
    /// The public URL, without a trailing slash: verification callbacks and links start with it.
    pub base_url: Arc<str>,
    /// Sends webhook requests, and checks webhook URIs against the SSRF rules.
    pub sender: Arc<Sender>,
    /// Seals policies' private keys and webhook signing secrets at rest.
    pub server_key: Arc<ServerKey>,
    /// Counts this process's changes to signing keys and secrets (rotations), so the delivery
    /// signer drops what it cached at once rather than on its next refresh.
    pub signing_changes: Arc<std::sync::atomic::AtomicU64>,
    /// How long a web console session may sit unused before it ends.
    pub console_idle_timeout: chrono::Duration,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_credential_cache_ttl(store, clock, DEFAULT_CREDENTIAL_CACHE_TTL)
    }

    /// `ttl` of zero turns the caches (credentials, provisioning secrets, accounts) off.
    pub fn with_credential_cache_ttl(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        crate::delivery::install_crypto_provider();
        Self {
            store,
            clock,
            credentials: Arc::new(CredentialCache::new(ttl)),
            accounts: Arc::new(AccountCache::new(ttl)),
            provisioning: Arc::new(ProvisioningCache::new(ttl)),
            base_url: Arc::from(DEFAULT_BASE_URL),
            sender: Arc::new(Sender::new(SenderSettings::default())),
            // A key of this process alone: what it seals, only it can open. `serve` and the
            // CLI replace it with the configured key (`with_server_key`).
            server_key: Arc::new(
                ServerKey::generate().expect("the operating system's RNG is available"),
            ),
            signing_changes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            console_idle_timeout: chrono::Duration::minutes(DEFAULT_CONSOLE_IDLE_TIMEOUT_MINS),
        }
    }

    /// The same services ending console sessions after `idle` without a request.
    pub fn with_console_idle_timeout(mut self, idle: chrono::Duration) -> Self {
        self.console_idle_timeout = idle;
        self
    }

    /// The same services sealing secrets with `server_key`.
    pub fn with_server_key(mut self, server_key: ServerKey) -> Self {
        self.server_key = Arc::new(server_key);
        self
    }

    /// The same services with another public base URL.
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = Arc::from(base_url.trim_end_matches('/'));
        self
    }

    /// The same services sending webhooks with other settings (timeout, allowed targets).
    pub fn with_sender(mut self, settings: SenderSettings) -> Self {
        self.sender = Arc::new(Sender::new(settings));
        self
    }

    /// Starts following credential changes other processes make (PostgreSQL LISTEN/NOTIFY), so
    /// a token revoked or a role removed on another node stops working here at once too.
    /// `serve` calls this; short-lived CLI commands don't need it.
    /// The same channel carries rotations of signing keys and secrets, so the delivery signer
    /// drops what it cached at once on every node, and changes to accounts.
    pub fn follow_credential_changes(&self) {
        let credentials = self.credentials.clone();
        let accounts = self.accounts.clone();
        let provisioning = self.provisioning.clone();
        let signing_changes = self.signing_changes.clone();
        self.store.follow_credential_changes(Arc::new(move || {
            credentials.invalidate_all();
            accounts.invalidate_all();
            provisioning.invalidate_all();
            signing_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
        }));
    }

    /// Called after a signing key or secret changed (committed).
    fn signing_changed(&self) {
        self.signing_changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Called by every command that can weaken a credential, after it committed.
    fn credentials_changed(&self) {
        self.credentials.invalidate_all();
        self.provisioning.invalidate_all();
    }
}

/// The API's caller must hold `scope` (and their roles permit it); the admin CLI (`None`) may
/// do anything.
fn require_scope(principal: Option<&Principal>, scope: crate::auth::Scope) -> ServiceResult<()> {
    match principal {
        Some(principal) => principal.require(scope),
        None => Ok(()),
    }
}
