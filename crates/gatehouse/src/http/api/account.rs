//! `/v1/account`: the caller's account, as Xurrent's API shows it — its id, name and settings.
//! Anyone with `account:read` reads it; account administrators (`account:write`) change it.
//! `/v1/status`: what runs and how the account's queue stands, for administrators.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, ErrorBody, FieldsParams, record_response};
use crate::domain::{Account, ScimPatchResponse};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{AccountChanges, Principal, ServerStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_account, update_account))
        .routes(routes!(get_status))
}

/// An account and its settings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// The account's slug (`acme`), as the `X-Gatehouse-Account` header names it.
    pub id: String,
    pub name: String,
    pub settings: AccountSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountSettings {
    /// Days finished deliveries (with their attempts), the events none of whose deliveries are
    /// left, and notices are kept: 1 to 3,650, default 90. Pending deliveries are kept until
    /// they finish, however old.
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    pub delivery_retention_days: i64,
    /// What a successful SCIM PATCH answers: `resource` (200 with the resource) or
    /// `no_content` (204).
    pub scim_patch_response: ScimPatchResponse,
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> Self {
        Self {
            id: account.id.to_string(),
            name: account.name.clone(),
            settings: AccountSettings {
                delivery_retention_days: account.delivery_retention_days.days(),
                scim_patch_response: account.scim_patch_response,
            },
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountBody {
    #[schema(max_length = 120)]
    pub name: Option<String>,
    pub settings: Option<UpdateAccountSettings>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountSettings {
    /// 1 to 3,650. Shortening it purges what is now too old at the server's next purge (within
    /// ten minutes).
    #[schema(minimum = 1, maximum = 3650)]
    pub delivery_retention_days: Option<i64>,
    pub scim_patch_response: Option<ScimPatchResponse>,
}

/// The caller's account and its settings. Needs `account:read`.
#[utoipa::path(
    get, path = "/v1/account", tag = "account",
    operation_id = "get_account",
    params(FieldsParams),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 400, description = "Unknown field in `fields`", body = ErrorBody),
    )
)]
async fn get_account(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let account = state.services.own_account(&principal).await?;
    record_response(
        StatusCode::OK,
        &AccountView::from(&account),
        params.fields.as_deref(),
    )
}

/// Changes the account's name or settings. Needs `account:write`, which only account
/// administrators may use.
#[utoipa::path(
    patch, path = "/v1/account", tag = "account", request_body = UpdateAccountBody,
    operation_id = "update_account",
    responses(
        (status = 200, description = "The account as updated", body = AccountView),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
    )
)]
async fn update_account(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<UpdateAccountBody>,
) -> ApiResult<Response> {
    let settings = body.settings;
    let changes = AccountChanges {
        name: body.name,
        delivery_retention_days: settings
            .as_ref()
            .and_then(|settings| settings.delivery_retention_days),
        scim_patch_response: settings.and_then(|settings| settings.scim_patch_response),
    };
    let account = state
        .services
        .update_own_account(&principal, changes)
        .await?;
    record_response(StatusCode::OK, &AccountView::from(&account), None)
}

/// The version and schema that run, the database's size, the account's delivery queue and its
/// retention. Needs `account:read` and an account or directory administrator.
#[utoipa::path(
    get, path = "/v1/status", tag = "account",
    operation_id = "get_status",
    responses(
        (status = 200, description = "What runs, and the account's queue", body = ServerStatus),
    )
)]
async fn get_status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Response> {
    let status = state.services.status(&principal).await?;
    record_response(StatusCode::OK, &status, None)
}
