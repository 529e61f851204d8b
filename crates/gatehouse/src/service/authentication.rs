//! Bearer token authentication: from the `Authorization` header to a `Principal`, or a reason
//! the token can't be used. The format check rejects typos before any database work; the
//! roles are read on every request, so a role taken away stops working at once.

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{RoleSet, Scope, ScopeSet, TokenHash, TokenSecret, role_permits};
use crate::domain::{AccountId, Actor, PersonId, TokenId};
use crate::store::Credential;

/// `last_used_at` is written at most this often per token, so reads don't become writes.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// Who is calling: a token and the person behind it, as of this request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub token_id: TokenId,
    pub account_id: AccountId,
    pub person_id: PersonId,
    pub person_name: String,
    pub roles: RoleSet,
    pub scopes: ScopeSet,
}

/// Why a bearer token was refused. The messages never contain the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no bearer token was given")]
    Missing,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token is not known")]
    Unknown,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
    #[error("the token's owner is disabled")]
    OwnerDisabled,
    #[error("the token is not valid for account {0}")]
    WrongAccount(String),
    #[error("the console session has ended; sign in again")]
    SessionEnded,
}

impl Principal {
    /// Both gates, every time: the token must carry the scope and the owner's roles, as they are
    /// now, must permit it.
    pub fn require(&self, scope: Scope) -> ServiceResult<()> {
        if !self.scopes.grants(scope) {
            return Err(ServiceError::InsufficientScope {
                scope,
                reason: format!("this token lacks the {scope} scope"),
            });
        }
        if !role_permits(&self.roles, scope) {
            return Err(ServiceError::InsufficientScope {
                scope,
                reason: format!("the roles of {} do not permit {scope}", self.person_name),
            });
        }
        Ok(())
    }

    pub fn actor(&self) -> Actor {
        Actor {
            person_id: self.person_id,
            person_name: self.person_name.clone(),
        }
    }
}

impl Services {
    /// Authenticates a bearer token for the account the request names (or, when it names none,
    /// the token's own account).
    pub async fn authenticate(
        &self,
        bearer: &str,
        requested_account: Option<&str>,
    ) -> ServiceResult<Principal> {
        let unauthenticated = ServiceError::Unauthenticated;
        let secret = TokenSecret::parse(bearer)
            .map_err(|error| unauthenticated(AuthFailure::Malformed(error.to_string())))?;
        self.authenticate_hash(&secret.hash(), requested_account)
            .await
    }

    /// Authenticates the token whose secret hashes to `hash` (a bearer token, or the token a
    /// console session was opened with): the same checks, every time.
    pub(super) async fn authenticate_hash(
        &self,
        hash: &TokenHash,
        requested_account: Option<&str>,
    ) -> ServiceResult<Principal> {
        let unauthenticated = ServiceError::Unauthenticated;
        let credential = self
            .credential(hash)
            .await?
            .ok_or(unauthenticated(AuthFailure::Unknown))?;
        if !credential.secret_hash.ct_eq(hash) {
            return Err(unauthenticated(AuthFailure::Unknown));
        }
        let now = self.clock.now();
        if credential.revoked_at.is_some() {
            return Err(unauthenticated(AuthFailure::Revoked));
        }
        if credential.expires_at <= now {
            return Err(unauthenticated(AuthFailure::Expired));
        }
        if credential.person_disabled {
            return Err(unauthenticated(AuthFailure::OwnerDisabled));
        }
        if let Some(requested) = requested_account
            && requested != credential.account_id.as_str()
        {
            return Err(unauthenticated(AuthFailure::WrongAccount(
                sanitize_account(requested),
            )));
        }
        let recent = now - Duration::seconds(LAST_USED_RESOLUTION_SECS);
        let generation_before_touch = self.credentials.generation();
        if credential.last_used_at.is_none_or(|used| used <= recent) {
            self.store
                .touch_token(credential.token_id, now, recent)
                .await?;
            let mut touched = Credential::clone(&credential);
            touched.last_used_at = Some(now);
            self.credentials.insert(
                hash,
                Arc::new(touched),
                generation_before_touch,
                Instant::now(),
            );
        }
        Ok(Principal {
            token_id: credential.token_id,
            account_id: credential.account_id.clone(),
            person_id: credential.person_id,
            person_name: credential.person_name.clone(),
            roles: credential.roles.clone(),
            scopes: credential.scopes.clone(),
        })
    }

    /// The credential for a token hash: from the cache when fresh, else from the store.
    async fn credential(&self, hash: &TokenHash) -> ServiceResult<Option<Arc<Credential>>> {
        if let Some(cached) = self.credentials.get(hash, Instant::now()) {
            return Ok(Some(cached));
        }
        let generation = self.credentials.generation();
        let Some(credential) = self.store.credential(hash).await? else {
            return Ok(None);
        };
        let credential = Arc::new(credential);
        self.credentials
            .insert(hash, credential.clone(), generation, Instant::now());
        Ok(Some(credential))
    }
}

/// The requested account echoed in an error, limited to characters an account id may have.
fn sanitize_account(requested: &str) -> String {
    requested
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || *character == '-')
        .take(crate::domain::ACCOUNT_ID_MAX_LENGTH)
        .collect()
}
