//! What a service call can fail with, independent of the protocol that reports it.

use crate::auth::ScopeSet;
use crate::store::{StoreError, StoreResult};

use super::AuthFailure;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The bearer token cannot be used at all (RFC 6750 `invalid_token`).
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    /// The token is fine but lacks a scope, or its owner's roles do not allow it, or it asks
    /// for more than it holds (a wider or longer-lived token). `scopes` names what is missing
    /// (RFC 6750 `scope`); it may be empty when what is missing is lifetime, not a scope.
    #[error("{reason}")]
    InsufficientScope { scopes: ScopeSet, reason: String },
    /// A rule other than scopes forbids the change.
    #[error("{0}")]
    Forbidden(String),
    /// The record does not exist in the caller's account (or the caller may not see it).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// What the request names existed but has expired for good (410).
    #[error("{0}")]
    Gone(String),
    /// The request names a record state that conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but breaks a rule; `errors` lists each problem.
    #[error("{message}")]
    Invalid {
        message: String,
        errors: Vec<String>,
    },
    /// A SCIM protocol error, with its status and `scimType` (RFC 7644 §3.12).
    #[error("{}", .0.detail)]
    Scim(scim::error::ScimError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key generation, sealing or the RNG failed; logged, answered without detail.
    #[error("{0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// The caller lacks the one scope `scope`.
    pub fn insufficient_scope(scope: crate::auth::Scope, reason: String) -> Self {
        Self::InsufficientScope {
            scopes: [scope].into_iter().collect(),
            reason,
        }
    }

    pub fn invalid(errors: Vec<String>) -> Self {
        let message = match errors.as_slice() {
            [only] => only.clone(),
            _ => "Validation failed".to_owned(),
        };
        Self::Invalid { message, errors }
    }
}

/// A store look-up's missing record as [`ServiceError::NotFound`]:
/// `self.store.person(account, id).await.or_not_found("Person")`.
pub(crate) trait OrNotFound<T> {
    /// The record; `NotFound(what)` when there is none, the store's error when it failed.
    fn or_not_found(self, what: &'static str) -> ServiceResult<T>;
}

impl<T> OrNotFound<T> for StoreResult<Option<T>> {
    fn or_not_found(self, what: &'static str) -> ServiceResult<T> {
        self?.ok_or(ServiceError::NotFound(what))
    }
}
