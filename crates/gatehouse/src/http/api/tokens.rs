//! `/v1/personal_access_tokens`: the caller's tokens (administrators: any of the account's).
//! The secret is in the create response only.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    ApiJson, ApiPath, ApiQuery, ErrorBody, FieldsParams, ScopeName, SortFields, double_option,
    list_query, list_response, record_response,
};
use crate::auth::ScopeSet;
use crate::domain::{PersonId, TokenId};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::pagination::Page;
use crate::service::{NewToken, Principal, TokenChanges, TokenExpiry, TokenView};
use crate::store::{SortField, TokenOwnerFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(get_token, update_token, delete_token))
        .routes(routes!(revoke_token))
}

const SORT_FIELDS: SortFields = &[
    ("name", SortField::Name),
    ("created_at", SortField::CreatedAt),
    ("expires_at", SortField::ExpiresAt),
];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
    /// `name`, `created_at` or `expires_at`; prefix `-` for descending. Default `created_at`.
    pub sort: Option<String>,
    /// Comma-separated fields to return.
    pub fields: Option<String>,
    /// Whose tokens: omitted for the caller's own; a person id, or `all`, for administrators.
    pub person_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    pub description: Option<String>,
    /// Deny by default: a token with no scopes can do nothing. `people:read`, `scim:write`, …
    #[serde(default)]
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: ScopeSet,
    /// Lifetime in days: 7, 30, 60, 90, 180 or 365. Give this or `expires_at`; with neither,
    /// the token lives 30 days, or until the calling token expires if that is sooner (there
    /// are no tokens that never expire, and none outlives the token that created it).
    #[schema(minimum = 7, maximum = 365, example = 30)]
    pub expires_in: Option<u32>,
    /// An exact expiry at most 365 days from now. Give this or `expires_in`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The create response: the record plus the secret, which is never shown again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedTokenView {
    #[serde(flatten)]
    pub token: TokenView,
    /// The bearer token. Store it now: Gatehouse keeps only its SHA-256 hash.
    pub token_secret: String,
}

/// The caller's tokens; `person_id` (an id or `all`) lets administrators see others'.
#[utoipa::path(
    get, path = "/v1/personal_access_tokens", tag = "personal_access_tokens", params(ListParams),
    operation_id = "list_personal_access_tokens",
    responses(
        (status = 200, description = "A page of tokens; see the Link and X-Pagination-* headers", body = [TokenView]),
        (status = 400, description = "Bad page, per_page, sort, fields or person_id", body = ErrorBody),
        (status = 403, description = "Lacks the scope, or asks for others' tokens without being an administrator", body = ErrorBody),
    )
)]
async fn list_tokens(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<ListParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let page = Page::from_query(&params.page, &params.per_page)?;
    let owner = match params.person_id.as_deref() {
        None => TokenOwnerFilter::Person(principal.person_id),
        Some("all") => TokenOwnerFilter::Everyone,
        Some(raw) => TokenOwnerFilter::Person(PersonId(
            Uuid::parse_str(raw)
                .map_err(|_| ApiError::bad_request("person_id must be a person id or `all`"))?,
        )),
    };
    let query = list_query(page, params.sort.as_deref(), SORT_FIELDS)?;
    let listing = state.services.tokens(&principal, owner, &query).await?;
    let now = state.services.clock.now();
    let views = listing.views(|token| TokenView::new(token, now));
    list_response(&state, &uri, page, views, params.fields.as_deref())
}

/// Creates a token for the caller: within the calling token's own scopes (write implies read)
/// and lifetime, and what the caller's roles permit.
#[utoipa::path(
    post, path = "/v1/personal_access_tokens", tag = "personal_access_tokens", request_body = CreateTokenBody,
    operation_id = "create_personal_access_token",
    responses(
        (status = 201, description = "Created; `token_secret` is shown this once", body = CreatedTokenView),
        (status = 422, description = "Invalid fields, an expiry outside the allowed choices, or scopes beyond the caller's roles", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: the calling token lacks a scope the new token asks for (named in `scope`), or the new token would outlive it", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> ApiResult<Response> {
    let expiry = match (body.expires_in, body.expires_at) {
        (Some(days), None) => TokenExpiry::InDays(days),
        (None, Some(at)) => TokenExpiry::At(at),
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "Give expires_in or expires_at, not both".to_owned(),
                Vec::new(),
            ));
        }
        (None, None) => TokenExpiry::Default,
    };
    let new = NewToken {
        name: body.name,
        description: body.description,
        scopes: body.scopes,
        expiry,
    };
    let created = state.services.create_own_token(&principal, new).await?;
    let view = CreatedTokenView {
        token: TokenView::new(&created.token, state.services.clock.now()),
        token_secret: created.secret.expose().to_owned(),
    };
    record_response(StatusCode::CREATED, &view, None)
}

/// One token: the caller's own, or, for an administrator, anyone's in the account.
#[utoipa::path(
    get, path = "/v1/personal_access_tokens/{id}", tag = "personal_access_tokens",
    operation_id = "get_personal_access_token",
    params(("id" = Uuid, Path, description = "Token id"), FieldsParams),
    responses(
        (status = 200, description = "The token (never its secret)", body = TokenView),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn get_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let token = state.services.token(&principal, TokenId(id)).await?;
    record_response(
        StatusCode::OK,
        &TokenView::new(&token, state.services.clock.now()),
        params.fields.as_deref(),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTokenBody {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Only narrower than the token's: each one it holds (write implies read).
    #[schema(value_type = Option<Vec<ScopeName>>)]
    pub scopes: Option<ScopeSet>,
}

/// The owner renames, describes or narrows their token (widening is refused: create a new one).
#[utoipa::path(
    patch, path = "/v1/personal_access_tokens/{id}", tag = "personal_access_tokens",
    request_body = UpdateTokenBody,
    operation_id = "update_personal_access_token",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "The token as changed", body = TokenView),
        (status = 403, description = "Not the token's owner", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 409, description = "The token is revoked", body = ErrorBody),
        (status = 422, description = "A wider scope, or a bad name or description", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn update_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateTokenBody>,
) -> ApiResult<Response> {
    let changes = TokenChanges {
        name: body.name,
        description: body.description,
        scopes: body.scopes,
    };
    let token = state
        .services
        .update_token(&principal, TokenId(id), changes)
        .await?;
    record_response(
        StatusCode::OK,
        &TokenView::new(&token, state.services.clock.now()),
        None,
    )
}

/// Revokes a token (as `POST …/revoke` does); deleting a revoked token changes nothing. The
/// record stays, revoked, for the audit trail.
#[utoipa::path(
    delete, path = "/v1/personal_access_tokens/{id}", tag = "personal_access_tokens",
    operation_id = "delete_personal_access_token",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn delete_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state.services.revoke_token(&principal, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes a token at once; revoking a revoked token changes nothing.
#[utoipa::path(
    post, path = "/v1/personal_access_tokens/{id}/revoke", tag = "personal_access_tokens",
    operation_id = "revoke_personal_access_token",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "The revoked token", body = TokenView),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let token = state.services.revoke_token(&principal, TokenId(id)).await?;
    record_response(
        StatusCode::OK,
        &TokenView::new(&token, state.services.clock.now()),
        None,
    )
}
