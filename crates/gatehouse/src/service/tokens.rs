//! Personal access tokens: created by a person for themselves, shown once, stored as a hash.
//! Administrators may list and revoke every token of their account; everyone else sees only
//! their own, and someone else's token is "not found" to them rather than "forbidden".

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::error::OrNotFound;
use super::validate::Problems;
use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Scope, ScopeSet, TokenSecret, role_permits};
use crate::domain::{
    Account, AccountId, NewEvent, Person, PersonalAccessToken, TokenId, TokenStatus,
};
use crate::store::{ListQuery, Listing, TokenOwnerFilter};

/// The lifetimes a token may be given, in days. There are no non-expiring tokens.
pub const TOKEN_EXPIRY_CHOICES_DAYS: [u32; 6] = [7, 30, 60, 90, 180, 365];
/// The lifetime of a token created without a choice, in the API and the CLI.
pub const DEFAULT_TOKEN_EXPIRY_DAYS: u32 = 30;
/// The longest a token may live, whichever way its expiry is given.
pub const TOKEN_MAX_LIFETIME_DAYS: i64 = 365;

pub enum TokenExpiry {
    /// One of `TOKEN_EXPIRY_CHOICES_DAYS`.
    InDays(u32),
    /// A moment within `TOKEN_MAX_LIFETIME_DAYS` from now.
    At(DateTime<Utc>),
    /// No choice made: `DEFAULT_TOKEN_EXPIRY_DAYS`, or sooner when the creating token itself
    /// expires sooner (a token never creates one that outlives it).
    Default,
}

pub struct NewToken {
    pub name: String,
    pub description: Option<String>,
    pub scopes: ScopeSet,
    pub expiry: TokenExpiry,
}

/// What the owner of a token changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TokenChanges {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// Only narrower: every scope must be one the token holds (write implies read).
    pub scopes: Option<ScopeSet>,
}

/// The record and the secret: the only moment the secret exists outside the caller's hands.
pub struct CreatedToken {
    pub token: PersonalAccessToken,
    pub secret: TokenSecret,
}

/// The token as REST and events show it; never includes the secret or its hash.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub account_id: String,
    pub person_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Vec<String>, example = json!(["people:read"]))]
    pub scopes: ScopeSet,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Derived from `expires_at` and `revoked_at` at the time of the response.
    pub status: TokenStatus,
}

impl TokenView {
    pub fn new(token: &PersonalAccessToken, now: DateTime<Utc>) -> Self {
        Self {
            id: token.id.0,
            account_id: token.account_id.to_string(),
            person_id: token.person_id.0,
            name: token.name.clone(),
            description: token.description.clone(),
            scopes: token.scopes.clone(),
            expires_at: token.expires_at,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
            status: token.status(now),
        }
    }
}

pub fn token_json(token: &PersonalAccessToken, now: DateTime<Utc>) -> serde_json::Value {
    json!(TokenView::new(token, now))
}

const TOKEN_SCOPE_READ: Scope = Scope::read(Resource::PersonalAccessTokens);
const TOKEN_SCOPE_WRITE: Scope = Scope::write(Resource::PersonalAccessTokens);

/// A token creates only tokens it could itself stand in for: scopes it holds (write implies
/// read) and an expiry no later than its own. Otherwise a short-lived or narrow token, once
/// leaked, would mint a broad one that outlives it. The CLI (no principal) is not bound.
fn require_within_creator(
    principal: &Principal,
    scopes: &ScopeSet,
    expires_at: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    let missing = scopes.not_granted_by(&principal.scopes);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|scope| scope.to_string()).collect();
        return Err(ServiceError::InsufficientScope {
            reason: format!(
                "A token creates only tokens within its own scopes; this token lacks {}",
                names.join(", ")
            ),
            scopes: missing,
        });
    }
    if let Some(expires_at) = expires_at
        && expires_at > principal.expires_at
    {
        return Err(ServiceError::InsufficientScope {
            scopes: ScopeSet::new(),
            reason: format!(
                "A token creates only tokens that expire no later than itself; this token \
                 expires at {}, the new one would expire at {}",
                principal
                    .expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        });
    }
    Ok(())
}

impl Services {
    /// Creates a token for `owner`. `principal` is the caller acting through the API (it must be
    /// the owner: tokens are personal); `None` for the admin CLI.
    pub async fn create_token(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        owner: &Person,
        new: NewToken,
    ) -> ServiceResult<CreatedToken> {
        if let Some(principal) = principal {
            principal.require(TOKEN_SCOPE_WRITE)?;
        }
        let now = self.clock.now();
        let mut problems = Problems::default();
        problems.name_and_description(&new.name, new.description.as_deref());
        let expires_at = match new.expiry {
            TokenExpiry::Default => {
                let default = now + Duration::days(i64::from(DEFAULT_TOKEN_EXPIRY_DAYS));
                Some(principal.map_or(default, |principal| default.min(principal.expires_at)))
            }
            TokenExpiry::InDays(days) if TOKEN_EXPIRY_CHOICES_DAYS.contains(&days) => {
                Some(now + Duration::days(i64::from(days)))
            }
            TokenExpiry::InDays(days) => {
                problems.push(format!(
                    "expires_in must be one of {TOKEN_EXPIRY_CHOICES_DAYS:?} days, not {days}"
                ));
                None
            }
            TokenExpiry::At(at) if at <= now => {
                problems.push("expires_at must be in the future".to_owned());
                None
            }
            TokenExpiry::At(at) if at > now + Duration::days(TOKEN_MAX_LIFETIME_DAYS) => {
                problems.push(format!(
                    "expires_at must be at most {TOKEN_MAX_LIFETIME_DAYS} days from now"
                ));
                None
            }
            TokenExpiry::At(at) => Some(at),
        };
        if let Some(principal) = principal {
            require_within_creator(principal, &new.scopes, expires_at)?;
        }
        for scope in new.scopes.iter() {
            if !role_permits(&owner.roles, scope) {
                problems.push(format!(
                    "scope {scope} is not permitted by the roles of {}",
                    owner.name
                ));
            }
        }
        if owner.disabled {
            problems.push(format!("{} is disabled and cannot own tokens", owner.name));
        }
        problems.into_result()?;
        let Some(expires_at) = expires_at else {
            return Err(ServiceError::invalid(vec![
                "expires_at is required".to_owned(),
            ]));
        };
        let secret = TokenSecret::generate();
        let token = PersonalAccessToken {
            id: TokenId(Uuid::now_v7()),
            account_id: account.id.clone(),
            person_id: owner.id,
            name: new.name.trim().to_owned(),
            description: new
                .description
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
            scopes: new.scopes,
            expires_at: crate::domain::truncate_to_micros(expires_at),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &account.id,
            "personal_access_token.create",
            token.id,
            actor.as_ref(),
            token_json(&token, now),
            now,
        );
        self.store
            .insert_token(&token, &secret.hash(), &event)
            .await?;
        Ok(CreatedToken { token, secret })
    }

    /// Creates a token for the caller themselves: tokens are personal.
    pub async fn create_own_token(
        &self,
        principal: &Principal,
        new: NewToken,
    ) -> ServiceResult<CreatedToken> {
        principal.require(TOKEN_SCOPE_WRITE)?;
        let account = self.account(&principal.account_id).await?;
        let owner = self
            .person_of(&principal.account_id, principal.person_id)
            .await?;
        self.create_token(&account, Some(principal), &owner, new)
            .await
    }

    /// A token the principal may see: their own, or any of the account's for administrators.
    pub async fn token(
        &self,
        principal: &Principal,
        id: TokenId,
    ) -> ServiceResult<PersonalAccessToken> {
        principal.require(TOKEN_SCOPE_READ)?;
        self.store
            .token(&principal.account_id, id)
            .await?
            .filter(|token| {
                token.person_id == principal.person_id || principal.roles.is_administrator()
            })
            .ok_or(ServiceError::NotFound("Personal access token"))
    }

    /// Lists tokens; `owner` other than the principal themselves needs an administrator.
    pub async fn tokens(
        &self,
        principal: &Principal,
        owner: TokenOwnerFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<PersonalAccessToken>> {
        principal.require(TOKEN_SCOPE_READ)?;
        if owner != TokenOwnerFilter::Person(principal.person_id)
            && !principal.roles.is_administrator()
        {
            return Err(ServiceError::Forbidden(
                "Only account and directory administrators may list other people's tokens"
                    .to_owned(),
            ));
        }
        Ok(self
            .store
            .tokens(&principal.account_id, owner, query)
            .await?)
    }

    /// The owner renames, describes or narrows their token. Widening is refused: a token's
    /// scopes were checked against its creator when it was made, and only less is ever safe.
    /// Administrators may revoke other people's tokens, not change them.
    pub async fn update_token(
        &self,
        principal: &Principal,
        id: TokenId,
        changes: TokenChanges,
    ) -> ServiceResult<PersonalAccessToken> {
        principal.require(TOKEN_SCOPE_WRITE)?;
        let token = self.token(principal, id).await?;
        if token.person_id != principal.person_id {
            return Err(ServiceError::Forbidden(
                "Only its owner changes a personal access token; administrators may revoke it"
                    .to_owned(),
            ));
        }
        if token.revoked_at.is_some() {
            return Err(ServiceError::Conflict(
                "the token is revoked; a revoked token does not change".to_owned(),
            ));
        }
        let mut changed = token.clone();
        if let Some(name) = changes.name {
            changed.name = name.trim().to_owned();
        }
        if let Some(description) = changes.description {
            changed.description = description.filter(|text| !text.trim().is_empty());
        }
        let mut problems = Problems::default();
        problems.name_and_description(&changed.name, changed.description.as_deref());
        if let Some(scopes) = changes.scopes {
            let wider = scopes.not_granted_by(&token.scopes);
            if !wider.is_empty() {
                let names: Vec<String> = wider.iter().map(|scope| scope.to_string()).collect();
                problems.push(format!(
                    "scopes can only narrow: the token does not hold {}; create a new token \
                     for more",
                    names.join(", ")
                ));
            }
            changed.scopes = scopes;
        }
        problems.into_result()?;
        if changed == token {
            return Ok(token);
        }
        let now = self.clock.now();
        let event = NewEvent::new(
            &token.account_id,
            "personal_access_token.update",
            token.id,
            Some(&principal.actor()),
            token_json(&changed, now),
            now,
        );
        if !self.store.update_token(&changed, &event).await? {
            return Err(ServiceError::Conflict(
                "the token was revoked meanwhile; a revoked token does not change".to_owned(),
            ));
        }
        self.credentials_changed();
        Ok(changed)
    }

    /// Revokes a token the principal may see; revoking a revoked token changes nothing.
    pub async fn revoke_token(
        &self,
        principal: &Principal,
        id: TokenId,
    ) -> ServiceResult<PersonalAccessToken> {
        principal.require(TOKEN_SCOPE_WRITE)?;
        let token = self.token(principal, id).await?;
        if token.person_id != principal.person_id {
            let owner = self
                .person_of(&principal.account_id, token.person_id)
                .await?;
            principal.require_rank_over(&owner, "revoke the tokens of {}")?;
        }
        self.revoke(&token, Some(principal)).await
    }

    /// Revokes any token of an account, for the admin CLI.
    pub async fn revoke_token_as_operator(
        &self,
        account: &Account,
        id: TokenId,
    ) -> ServiceResult<PersonalAccessToken> {
        let token = self.token_of(&account.id, id).await?;
        self.revoke(&token, None).await
    }

    async fn revoke(
        &self,
        token: &PersonalAccessToken,
        principal: Option<&Principal>,
    ) -> ServiceResult<PersonalAccessToken> {
        if token.revoked_at.is_some() {
            return Ok(token.clone());
        }
        let now = self.clock.now();
        let mut revoked = token.clone();
        revoked.revoked_at = Some(now);
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &token.account_id,
            "personal_access_token.revoke",
            token.id,
            actor.as_ref(),
            token_json(&revoked, now),
            now,
        );
        let changed = self
            .store
            .revoke_token(&token.account_id, token.id, now, &event)
            .await?;
        self.credentials_changed();
        if changed {
            Ok(revoked)
        } else {
            // Revoked concurrently by someone else: report what is stored.
            self.token_of(&token.account_id, token.id).await
        }
    }

    /// The account's token `id`, or 404.
    async fn token_of(
        &self,
        account: &AccountId,
        id: TokenId,
    ) -> ServiceResult<PersonalAccessToken> {
        self.store
            .token(account, id)
            .await
            .or_not_found("Personal access token")
    }

    /// Every token of an account, for the admin CLI.
    pub async fn tokens_as_operator(
        &self,
        account: &Account,
        owner: TokenOwnerFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<PersonalAccessToken>> {
        Ok(self.store.tokens(&account.id, owner, query).await?)
    }
}
