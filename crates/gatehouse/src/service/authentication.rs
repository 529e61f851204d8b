//! Bearer token authentication: from the `Authorization` header to a `Principal`, or a reason
//! the token can't be used. The format check rejects typos before any database work; the
//! roles are read on every request, so a role taken away stops working at once.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{
    Resource, RoleSet, Scope, ScopeSet, TokenHash, TokenKind, TokenSecret, role_permits,
};
use crate::domain::{AccountId, Actor, Person, PersonId, ProvisioningSecretId, TokenId};
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
    /// When the token expires: nothing it creates may outlive it.
    pub expires_at: DateTime<Utc>,
}

/// Why a bearer token was refused. The messages never contain the token.
///
/// What a caller is told (`Display`) is the same for every well-formed token that can't be
/// used — unknown, expired, revoked, its owner disabled, or of another account — so whoever
/// holds a leaked or guessed token learns nothing about it. The real reason ([`Self::reason`])
/// goes to the server log only.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no bearer token was given")]
    Missing,
    /// The format check failed (prefix, alphabet, checksum): nothing about any real token.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("{INVALID_TOKEN_MESSAGE}")]
    Unknown,
    #[error("{INVALID_TOKEN_MESSAGE}")]
    Expired,
    #[error("{INVALID_TOKEN_MESSAGE}")]
    Revoked,
    #[error("{INVALID_TOKEN_MESSAGE}")]
    OwnerDisabled,
    #[error("{INVALID_TOKEN_MESSAGE}")]
    WrongAccount(String),
    #[error("the console session has ended; sign in again")]
    SessionEnded,
}

/// The one answer to a well-formed token that can't be used, whatever the reason.
pub const INVALID_TOKEN_MESSAGE: &str =
    "the token is not valid: unknown, expired, revoked, or not for this account";

impl AuthFailure {
    /// The real reason, for the server log.
    pub fn reason(&self) -> String {
        match self {
            Self::Missing => "no bearer token".to_owned(),
            Self::Malformed(detail) => format!("malformed: {detail}"),
            Self::Unknown => "unknown token".to_owned(),
            Self::Expired => "expired".to_owned(),
            Self::Revoked => "revoked".to_owned(),
            Self::OwnerDisabled => "owner disabled".to_owned(),
            Self::WrongAccount(account) => format!("used for account {account}"),
            Self::SessionEnded => "console session ended".to_owned(),
        }
    }
}

impl Principal {
    /// Both gates, every time: the token must carry the scope and the owner's roles, as they are
    /// now, must permit it.
    pub fn require(&self, scope: Scope) -> ServiceResult<()> {
        if !self.scopes.grants(scope) {
            return Err(ServiceError::insufficient_scope(
                scope,
                format!("this token lacks the {scope} scope"),
            ));
        }
        if !role_permits(&self.roles, scope) {
            return Err(ServiceError::insufficient_scope(
                scope,
                format!("the roles of {} do not permit {scope}", self.person_name),
            ));
        }
        Ok(())
    }

    /// A lower rank never acts on a higher one: refuses `action` (a verb phrase with `{}` where
    /// the target's name goes: "change {}", "take over {} through SCIM") on `target` when the
    /// caller's roles rank below the target's roles as they are now. Equals may act on each
    /// other.
    pub fn require_rank_over(&self, target: &Person, action: &str) -> ServiceResult<()> {
        let (actor_rank, target_rank) = (self.roles.rank(), target.roles.rank());
        if actor_rank >= target_rank {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} may not {}: {} is {}, which outranks {}'s role as {}; only someone of that rank \
             or higher may",
            self.person_name,
            action.replace("{}", &target.name),
            target.name,
            target_rank.with_article(),
            self.person_name,
            actor_rank.with_article(),
        )))
    }

    pub fn actor(&self) -> Actor {
        Actor {
            person_id: self.person_id,
            person_name: self.person_name.clone(),
        }
    }
}

/// Who calls `/scim/v2`: a person's token, which acts within its owner's rank, or the account's
/// provisioning credential, which acts for the whole account.
#[derive(Clone, Debug)]
pub struct ScimPrincipal {
    pub account_id: AccountId,
    pub acting: ScimActing,
}

#[derive(Clone, Debug)]
pub enum ScimActing {
    /// A personal access token with the `scim:*` scopes, within its owner's roles and rank.
    Person(Principal),
    /// The account's provisioning credential (this secret of it): it reads and writes SCIM and
    /// nothing else, and is authoritative for every person, administrators included.
    Provisioning(ProvisioningSecretId),
}

impl ScimPrincipal {
    /// A person's token may do what its scopes and its owner's roles allow; the provisioning
    /// credential may do anything on SCIM.
    pub fn require(&self, scope: Scope) -> ServiceResult<()> {
        match &self.acting {
            ScimActing::Person(principal) => principal.require(scope),
            ScimActing::Provisioning(_) if scope.resource == Resource::Scim => Ok(()),
            ScimActing::Provisioning(_) => Err(ServiceError::insufficient_scope(
                scope,
                format!("the SCIM provisioning credential grants SCIM only, not {scope}"),
            )),
        }
    }

    /// A person's token never acts on someone who outranks its owner; the provisioning
    /// credential is the directory's authority and outranks everyone.
    pub fn require_rank_over(&self, target: &Person, action: &str) -> ServiceResult<()> {
        match &self.acting {
            ScimActing::Person(principal) => principal.require_rank_over(target, action),
            ScimActing::Provisioning(_) => Ok(()),
        }
    }

    /// The person an event names as its actor: none for the provisioning credential.
    pub fn actor(&self) -> Option<Actor> {
        match &self.acting {
            ScimActing::Person(principal) => Some(principal.actor()),
            ScimActing::Provisioning(_) => None,
        }
    }
}

impl From<Principal> for ScimPrincipal {
    fn from(principal: Principal) -> Self {
        Self {
            account_id: principal.account_id.clone(),
            acting: ScimActing::Person(principal),
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
        if TokenKind::of(bearer) == Some(TokenKind::Provisioning) {
            return Err(ServiceError::Unauthenticated(AuthFailure::Malformed(
                "this is the account's SCIM provisioning credential, which /scim/v2 alone \
                 accepts; use a personal access token"
                    .to_owned(),
            )));
        }
        let secret = TokenSecret::parse(bearer).map_err(|error| {
            ServiceError::Unauthenticated(AuthFailure::Malformed(error.to_string()))
        })?;
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
        let Some(credential) = self.credential(hash).await? else {
            tracing::info!(reason = "unknown token", "bearer token refused");
            return Err(ServiceError::Unauthenticated(AuthFailure::Unknown));
        };
        if !credential.secret_hash.ct_eq(hash) {
            tracing::info!(reason = "unknown token", "bearer token refused");
            return Err(ServiceError::Unauthenticated(AuthFailure::Unknown));
        }
        let refused = |failure: AuthFailure| {
            tracing::info!(
                token_id = %credential.token_id.0,
                account = %credential.account_id,
                reason = %failure.reason(),
                "bearer token refused"
            );
            ServiceError::Unauthenticated(failure)
        };
        let now = self.clock.now();
        if credential.revoked_at.is_some() {
            return Err(refused(AuthFailure::Revoked));
        }
        if credential.expires_at <= now {
            return Err(refused(AuthFailure::Expired));
        }
        if credential.person_disabled {
            return Err(refused(AuthFailure::OwnerDisabled));
        }
        if let Some(requested) = requested_account
            && requested != credential.account_id.as_str()
        {
            return Err(refused(AuthFailure::WrongAccount(sanitize_account(
                requested,
            ))));
        }
        let recent = now - Duration::seconds(LAST_USED_RESOLUTION_SECS);
        let generation_before_touch = self.credentials.generation();
        if credential.last_used_at.is_none_or(|used| used <= recent) {
            self.store
                .touch_token(credential.token_id, now, recent)
                .await?;
            self.credentials.keep_changed(
                hash.as_bytes(),
                &credential,
                |touched| touched.last_used_at = Some(now),
                generation_before_touch,
            );
        }
        Ok(Principal {
            token_id: credential.token_id,
            account_id: credential.account_id.clone(),
            person_id: credential.person_id,
            person_name: credential.person_name.clone(),
            roles: credential.roles.clone(),
            scopes: credential.scopes.clone(),
            expires_at: credential.expires_at,
        })
    }

    /// The credential for a token hash: from the cache when fresh, else from the store.
    async fn credential(&self, hash: &TokenHash) -> ServiceResult<Option<Arc<Credential>>> {
        let load = async { Ok(self.store.credential(hash).await?.map(Arc::new)) };
        self.credentials.get_or_load(hash.as_bytes(), load).await
    }
}

/// The requested account echoed in an error, limited to characters an account id may have.
pub(super) fn sanitize_account(requested: &str) -> String {
    requested
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || *character == '-')
        .take(crate::domain::ACCOUNT_ID_MAX_LENGTH)
        .collect()
}
