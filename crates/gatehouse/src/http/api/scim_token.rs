//! `/v1/scim_token`: the account's SCIM provisioning credential (Xurrent's "SCIM token"), the
//! secret an identity provider holds to provision the account through `/scim/v2`. Account
//! administrators create, rotate and revoke it (`account:write`); reading it (`account:read`)
//! never shows a secret — only the create and rotate responses do, once.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ErrorBody, record_response};
use crate::domain::MAX_PROVISIONING_OVERLAP_DAYS;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{IssuedProvisioningCredential, Principal, ProvisioningCredentialView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            get_scim_token,
            create_scim_token,
            revoke_scim_token
        ))
        .routes(routes!(rotate_scim_token))
}

/// The create and rotate response: the credential plus its new secret, never shown again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedScimTokenView {
    #[serde(flatten)]
    pub credential: ProvisioningCredentialView,
    /// The new secret (`gth_scim_…`). Give it to the identity provider now: Gatehouse keeps
    /// only its SHA-256 hash.
    pub secret: String,
}

impl From<&IssuedProvisioningCredential> for IssuedScimTokenView {
    fn from(issued: &IssuedProvisioningCredential) -> Self {
        Self {
            credential: ProvisioningCredentialView::new(&issued.credential),
            secret: issued.secret.expose().to_owned(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateScimTokenBody {
    /// How many days the replaced secret keeps working, so the identity provider can be
    /// switched over: 0 (it stops at once) to 30; default 30.
    #[schema(minimum = 0, maximum = 30, example = 30)]
    pub overlap_days: Option<u32>,
}

/// The account's SCIM provisioning credential, without its secret: when it was made and by
/// whom, when it was last used, and the secret the last rotation replaced while it still
/// works. Needs `account:read` and an account or directory administrator.
#[utoipa::path(
    get, path = "/v1/scim_token", tag = "scim_token",
    operation_id = "get_scim_token",
    responses(
        (status = 200, description = "The credential (never its secret)", body = ProvisioningCredentialView),
        (status = 403, description = "Lacks the scope, or is no administrator", body = ErrorBody),
        (status = 404, description = "The account has no SCIM provisioning credential", body = ErrorBody),
    )
)]
async fn get_scim_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Response> {
    let credential = state
        .services
        .provisioning_credential(&principal.account_id, Some(&principal))
        .await?;
    record_response(
        StatusCode::OK,
        &ProvisioningCredentialView::new(&credential),
        None,
    )
}

/// Creates the account's SCIM provisioning credential. It acts on `/scim/v2` only, for the
/// whole account (every person, administrators included), and never expires by itself. Needs
/// `account:write`, which only account administrators may use.
#[utoipa::path(
    post, path = "/v1/scim_token", tag = "scim_token",
    operation_id = "create_scim_token",
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = IssuedScimTokenView),
        (status = 409, description = "The account already has one: rotate or revoke it", body = ErrorBody),
    )
)]
async fn create_scim_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Response> {
    let issued = state
        .services
        .create_provisioning_credential(&principal.account_id, Some(&principal))
        .await?;
    record_response(
        StatusCode::CREATED,
        &IssuedScimTokenView::from(&issued),
        None,
    )
}

/// Gives the credential a new secret. The replaced one keeps working for `overlap_days`
/// (default 30); a secret an earlier rotation left working stops now. Needs `account:write`.
#[utoipa::path(
    post, path = "/v1/scim_token/rotate", tag = "scim_token",
    operation_id = "rotate_scim_token",
    request_body = RotateScimTokenBody,
    responses(
        (status = 200, description = "The new secret, shown this once", body = IssuedScimTokenView),
        (status = 404, description = "The account has no SCIM provisioning credential", body = ErrorBody),
        (status = 422, description = "`overlap_days` out of range, or unknown fields", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
    )
)]
async fn rotate_scim_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<RotateScimTokenBody>,
) -> ApiResult<Response> {
    let issued = state
        .services
        .rotate_provisioning_credential(
            &principal.account_id,
            Some(&principal),
            body.overlap_days.unwrap_or(MAX_PROVISIONING_OVERLAP_DAYS),
        )
        .await?;
    record_response(StatusCode::OK, &IssuedScimTokenView::from(&issued), None)
}

/// Revokes the credential: its secret, and any previous one still in its overlap, stop
/// working at once. Needs `account:write`.
#[utoipa::path(
    delete, path = "/v1/scim_token", tag = "scim_token",
    operation_id = "revoke_scim_token",
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "The account has no SCIM provisioning credential", body = ErrorBody),
    )
)]
async fn revoke_scim_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<StatusCode> {
    state
        .services
        .revoke_provisioning_credential(&principal.account_id, Some(&principal))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
