//! Services: the rules. One public function per user intent, one transaction per call, and the
//! event it appends (CONVENTIONS.md 3). Handlers and the CLI call these; neither writes SQL.

mod accounts;
mod authentication;
mod clock;
mod credential_cache;
mod error;
mod people;
pub mod scim;
mod tokens;
mod validate;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{AccountChanges, NewAccount};
pub use authentication::{AuthFailure, Principal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credential_cache::{CredentialCache, DEFAULT_CREDENTIAL_CACHE_TTL};
pub use error::{ServiceError, ServiceResult};
pub use people::{NewPerson, PersonChanges, PersonView};
pub use tokens::{
    CreatedToken, DEFAULT_TOKEN_EXPIRY_DAYS, NewToken, TOKEN_EXPIRY_CHOICES_DAYS, TokenExpiry,
    TokenView,
};

use crate::store::Store;

/// Everything a request needs, cheap to clone: held in axum's `State`.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    credentials: Arc<CredentialCache>,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_credential_cache_ttl(store, clock, DEFAULT_CREDENTIAL_CACHE_TTL)
    }

    /// `ttl` of zero turns the credential cache off.
    pub fn with_credential_cache_ttl(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            credentials: Arc::new(CredentialCache::new(ttl)),
        }
    }

    /// Starts following credential changes other processes make (PostgreSQL LISTEN/NOTIFY), so
    /// a token revoked or a role removed on another node stops working here at once too.
    /// `serve` calls this; short-lived CLI commands don't need it.
    pub fn follow_credential_changes(&self) {
        let credentials = self.credentials.clone();
        self.store
            .follow_credential_changes(Arc::new(move || credentials.invalidate_all()));
    }

    /// Called by every command that can weaken a credential, after it committed.
    fn credentials_changed(&self) {
        self.credentials.invalidate_all();
    }
}
