//! The account's SCIM provisioning credential (Xurrent's "SCIM token"): created, rotated,
//! shown and revoked by an account administrator (`account:write` / `account:read`) or by the
//! operator's command line, and accepted on `/scim/v2` only, where it acts for the whole
//! account. Its secret is shown once and stored as a hash; it never expires by itself; a
//! rotation keeps the replaced secret working for an overlap of up to 30 days.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::authentication::{LAST_USED_RESOLUTION_SECS, sanitize_account};
use super::{
    AuthFailure, Principal, ScimActing, ScimPrincipal, ServiceError, ServiceResult, Services,
    require_scope,
};
use crate::auth::{PROVISIONING_PREFIX, Resource, Scope, TokenHash, TokenKind, TokenSecret};
use crate::domain::{
    AccountId, MAX_PROVISIONING_OVERLAP_DAYS, NewEvent, ProvisioningCredential, ProvisioningSecret,
    ProvisioningSecretId,
};
use crate::store::StoreError;

/// One secret of the credential as its views show it (never the secret itself).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisioningSecretView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The name of the administrator who made it; `null` when the command line did.
    pub created_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The account's provisioning credential: the current secret and, for the overlap after a
/// rotation, the one it replaced.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisioningCredentialView {
    /// The current secret's id.
    pub id: Uuid,
    /// Every secret starts with it (`gth_scim_`), so secret scanners tell it from a token.
    #[schema(example = "gth_scim_")]
    pub prefix: &'static str,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The secret the last rotation replaced, while it still works.
    pub previous: Option<PreviousSecretView>,
}

/// A replaced secret that keeps working until `expires_at`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PreviousSecretView {
    #[serde(flatten)]
    pub secret: ProvisioningSecretView,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl ProvisioningSecretView {
    fn new(secret: &ProvisioningSecret) -> Self {
        Self {
            id: secret.id.0,
            created_at: secret.created_at,
            created_by: secret.created_by.clone(),
            last_used_at: secret.last_used_at,
        }
    }
}

impl ProvisioningCredentialView {
    pub fn new(credential: &ProvisioningCredential) -> Self {
        let current = &credential.current;
        Self {
            id: current.id.0,
            prefix: PROVISIONING_PREFIX,
            created_at: current.created_at,
            created_by: current.created_by.clone(),
            last_used_at: current.last_used_at,
            previous: credential.previous.as_ref().and_then(|previous| {
                Some(PreviousSecretView {
                    secret: ProvisioningSecretView::new(previous),
                    expires_at: previous.retires_at?,
                })
            }),
        }
    }
}

/// A credential just created or rotated, with its new secret: the only time it is shown.
pub struct IssuedProvisioningCredential {
    pub credential: ProvisioningCredential,
    pub secret: TokenSecret,
}

const READ: Scope = Scope::read(Resource::Account);
const WRITE: Scope = Scope::write(Resource::Account);

impl Services {
    /// Creates the account's credential; 409 when it has one (rotate it instead).
    pub async fn create_provisioning_credential(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
    ) -> ServiceResult<IssuedProvisioningCredential> {
        require_scope(principal, WRITE)?;
        self.account(account).await?;
        let (secret, record) = self.new_secret(account, principal);
        let event = self.credential_event(account, principal, "scim_token.create", &record);
        match self
            .store
            .insert_provisioning_secret(&record, &secret.hash(), &event)
            .await
        {
            Ok(()) => Ok(IssuedProvisioningCredential {
                credential: ProvisioningCredential {
                    current: record,
                    previous: None,
                },
                secret,
            }),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "account {account} already has a SCIM provisioning credential: rotate it \
                 (POST /v1/scim_token/rotate) or revoke it first"
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Gives the credential a new secret; the one it replaces keeps working for
    /// `overlap_days` (0 to 30), and one an earlier rotation left working stops now.
    pub async fn rotate_provisioning_credential(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
        overlap_days: u32,
    ) -> ServiceResult<IssuedProvisioningCredential> {
        require_scope(principal, WRITE)?;
        if overlap_days > MAX_PROVISIONING_OVERLAP_DAYS {
            return Err(ServiceError::invalid(vec![format!(
                "overlap_days must be between 0 and {MAX_PROVISIONING_OVERLAP_DAYS}, not \
                 {overlap_days}"
            )]));
        }
        let (secret, record) = self.new_secret(account, principal);
        let retires_at = record.created_at + Duration::days(i64::from(overlap_days));
        let event = self.credential_event(account, principal, "scim_token.rotate", &record);
        if !self
            .store
            .rotate_provisioning_secret(&record, &secret.hash(), retires_at, &event)
            .await?
        {
            return Err(ServiceError::NotFound("SCIM provisioning credential"));
        }
        self.credentials_changed();
        let credential = self.provisioning_credential(account, principal).await?;
        Ok(IssuedProvisioningCredential { credential, secret })
    }

    /// The account's credential, without any secret; 404 when it has none. For account and
    /// directory administrators: whoever else may read the account has no business with it.
    pub async fn provisioning_credential(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
    ) -> ServiceResult<ProvisioningCredential> {
        require_scope(principal, READ)?;
        if let Some(principal) = principal
            && !principal.roles.is_administrator()
        {
            return Err(ServiceError::Forbidden(format!(
                "{} may not read the SCIM provisioning credential: it is for account and \
                 directory administrators",
                principal.person_name
            )));
        }
        self.current_provisioning_credential(account)
            .await?
            .ok_or(ServiceError::NotFound("SCIM provisioning credential"))
    }

    /// The account's credential as its working secrets make it now, if it has one; for callers
    /// that checked who may read it.
    pub(super) async fn current_provisioning_credential(
        &self,
        account: &AccountId,
    ) -> ServiceResult<Option<ProvisioningCredential>> {
        let secrets = self.store.provisioning_secrets(account).await?;
        Ok(ProvisioningCredential::of(secrets, self.clock.now()))
    }

    /// Revokes the credential: its current secret and any previous one stop working at once.
    pub async fn revoke_provisioning_credential(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
    ) -> ServiceResult<()> {
        require_scope(principal, WRITE)?;
        let now = self.clock.now();
        let credential = self.provisioning_credential(account, principal).await?;
        let event =
            self.credential_event(account, principal, "scim_token.revoke", &credential.current);
        if !self
            .store
            .revoke_provisioning_secrets(account, now, &event)
            .await?
        {
            return Err(ServiceError::NotFound("SCIM provisioning credential"));
        }
        self.credentials_changed();
        Ok(())
    }

    /// Authenticates a bearer on `/scim/v2`: the account's provisioning credential, or a
    /// person's token as everywhere else.
    pub async fn authenticate_scim(
        &self,
        bearer: &str,
        requested_account: Option<&str>,
    ) -> ServiceResult<ScimPrincipal> {
        if TokenKind::of(bearer) != Some(TokenKind::Provisioning) {
            return Ok(self.authenticate(bearer, requested_account).await?.into());
        }
        let secret = TokenSecret::parse_of(TokenKind::Provisioning, bearer).map_err(|error| {
            ServiceError::Unauthenticated(AuthFailure::Malformed(error.to_string()))
        })?;
        let hash = secret.hash();
        let Some(stored) = self.provisioning_secret(&hash).await? else {
            tracing::info!(reason = "unknown credential", "SCIM credential refused");
            return Err(ServiceError::Unauthenticated(AuthFailure::Unknown));
        };
        let refused = |failure: AuthFailure| {
            tracing::info!(
                credential_id = %stored.id.0,
                account = %stored.account_id,
                reason = %failure.reason(),
                "SCIM credential refused"
            );
            ServiceError::Unauthenticated(failure)
        };
        let now = self.clock.now();
        if stored.revoked_at.is_some() {
            return Err(refused(AuthFailure::Revoked));
        }
        if !stored.works_at(now) {
            return Err(refused(AuthFailure::Expired));
        }
        if let Some(requested) = requested_account
            && requested != stored.account_id.as_str()
        {
            return Err(refused(AuthFailure::WrongAccount(sanitize_account(
                requested,
            ))));
        }
        let recent = now - Duration::seconds(LAST_USED_RESOLUTION_SECS);
        let generation_before_touch = self.provisioning.generation();
        if stored.last_used_at.is_none_or(|used| used <= recent) {
            self.store
                .touch_provisioning_secret(stored.id, now, recent)
                .await?;
            self.provisioning.keep_changed(
                hash.as_bytes(),
                &stored,
                |touched| touched.last_used_at = Some(now),
                generation_before_touch,
            );
        }
        Ok(ScimPrincipal {
            account_id: stored.account_id.clone(),
            acting: ScimActing::Provisioning(stored.id),
        })
    }

    /// The provisioning secret for a hash: from the cache when fresh, else from the store.
    async fn provisioning_secret(
        &self,
        hash: &TokenHash,
    ) -> ServiceResult<Option<Arc<ProvisioningSecret>>> {
        let load = async { Ok(self.store.provisioning_secret(hash).await?.map(Arc::new)) };
        self.provisioning.get_or_load(hash.as_bytes(), load).await
    }

    fn new_secret(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
    ) -> (TokenSecret, ProvisioningSecret) {
        let secret = TokenSecret::generate_of(TokenKind::Provisioning);
        let record = ProvisioningSecret {
            id: ProvisioningSecretId(Uuid::now_v7()),
            account_id: account.clone(),
            created_at: crate::domain::truncate_to_micros(self.clock.now()),
            created_by: principal.map(|principal| principal.person_name.clone()),
            last_used_at: None,
            retires_at: None,
            revoked_at: None,
        };
        (secret, record)
    }

    fn credential_event(
        &self,
        account: &AccountId,
        principal: Option<&Principal>,
        name: &str,
        secret: &ProvisioningSecret,
    ) -> NewEvent {
        let actor = principal.map(Principal::actor);
        NewEvent::new(
            account,
            name,
            secret.id,
            actor.as_ref(),
            json!({ "id": secret.id, "created_at": secret.created_at }),
            self.clock.now(),
        )
    }
}
