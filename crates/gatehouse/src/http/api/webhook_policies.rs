//! `/v1/webhook_policies`: the account's webhook policies (account and directory
//! administrators), their predefined filters `enabled` and `disabled`, and key rotation. The
//! public key is in the create and rotate answers only (Xurrent's one-time rule).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::webhooks::RotateBody;
use super::{
    ApiJson, ApiPath, ApiQuery, ErrorBody, FieldsParams, ListParams, double_option, record_response,
};
use super::{Caller, DISABLED, ENABLED, FilteredCollection, ListRequest, filtered_list};
use crate::domain::{ClaimExpiryInput, JwtFormat, RecordSource, WebhookPolicyId};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{
    CreatedPolicyKey, NewWebhookPolicy, ServiceResult, WebhookPolicyChanges, WebhookPolicyView,
};
use crate::store::{ListQuery, Listing, WebhookFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(list_enabled_policies))
        .routes(routes!(list_disabled_policies))
        .routes(routes!(get_policy, update_policy, delete_policy))
        .routes(routes!(rotate_policy))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicyBody {
    /// Absent: a name is generated as Xurrent does (56 hex characters).
    #[schema(max_length = 120)]
    pub name: Option<String>,
    /// `rs256`, `rs384`, `rs512`, `ps256`, `ps384`, `ps512`, `es256`, `es384`, `es512`,
    /// `eddsa`, `hs256`, `hs384` or `hs512`; `none` is refused.
    #[schema(example = "es256")]
    pub jwt_alg: String,
    /// From signing until the `exp` claim: whole minutes (`15`) or Xurrent's `"hhh:mm"`
    /// (`"01:30"`), at most 1,440 minutes (`"24:00"`). Absent or `null`: no `exp` claim
    /// (Xurrent's default).
    pub jwt_claim_expires_in: Option<ClaimExpiryInput>,
    /// The `aud` claim.
    pub jwt_audience: Option<String>,
    /// `xurrent` (default, Xurrent's: `{"jwt": "…"}`, `application/json`, the message under
    /// `data`) or `jwt` (the body is the JWS, `application/jwt`, message keys as claims).
    pub jwt_format: Option<JwtFormat>,
    #[serde(default)]
    pub disabled: bool,
    /// Webhooks to link to it (not while it is disabled).
    pub webhook_ids: Option<Vec<Uuid>>,
    /// The integration that made it (Xurrent's generic field).
    #[schema(max_length = 30)]
    pub source: Option<String>,
    /// That integration's id for it.
    #[serde(rename = "sourceID")]
    #[schema(max_length = 128)]
    pub source_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePolicyBody {
    #[schema(max_length = 120)]
    pub name: Option<String>,
    /// Another algorithm makes a new key for it that signs at once; the answer shows its
    /// public key (or HMAC secret) this once. Refused while a rotation waits to complete.
    pub jwt_alg: Option<String>,
    /// Minutes or `"hhh:mm"`, at most 1,440 minutes; `null` sends no `exp` claim.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ClaimExpiryInput>)]
    pub jwt_claim_expires_in: Option<Option<ClaimExpiryInput>>,
    /// `null` sends no `aud` claim.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub jwt_audience: Option<Option<String>>,
    pub jwt_format: Option<JwtFormat>,
    /// While true, the linked webhooks' deliveries wait (they are never sent unsigned).
    pub disabled: Option<bool>,
    /// Exactly these webhooks are linked afterwards (`[]` unlinks all).
    pub webhook_ids: Option<Vec<Uuid>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 30)]
    pub source: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, rename = "sourceID", deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub source_id: Option<Option<String>>,
}

/// A new policy and, this once, its public key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedPolicyView {
    #[serde(flatten)]
    pub policy: WebhookPolicyView,
    /// The new key's `key_id` is the policy's own (the key signs at once), so the document
    /// lists only the rest: a property in both halves of the `allOf`, nullable in one and not
    /// in the other, is more than client generators (openapi-python-client) merge.
    #[serde(flatten)]
    #[schema(value_type = NewPolicyKeyMaterial)]
    pub key: CreatedPolicyKey,
}

/// A changed policy; when its algorithm changed, with the new key (its `key_id`, which signs
/// from now on) shown this once, as a create answer shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UpdatedPolicyView {
    #[serde(flatten)]
    pub policy: WebhookPolicyView,
    /// Only when `jwt_alg` changed to an asymmetric algorithm: the new key, SPKI PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    /// Only when `jwt_alg` changed to an asymmetric algorithm: the new key as a JWK.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub public_jwk: Option<serde_json::Value>,
    /// Only when `jwt_alg` changed to an HS algorithm: the new shared secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl UpdatedPolicyView {
    fn new(policy: WebhookPolicyView, key: Option<CreatedPolicyKey>) -> Self {
        let (public_key_pem, public_jwk, secret) = match key {
            Some(key) => (key.public_key_pem, key.public_jwk, key.secret),
            None => (None, None, None),
        };
        Self {
            policy,
            public_key_pem,
            public_jwk,
            secret,
        }
    }
}

/// What a new policy's answer adds to the policy: its key, this once.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the answer only; `CreatedPolicyKey` is what is serialized
struct NewPolicyKeyMaterial {
    active_from: DateTime<Utc>,
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`); `null` for the HS algorithms.
    public_key_pem: Option<String>,
    /// The same key as a JWK (RFC 7517), with `kid`, `alg` and `use`; `null` for HS.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    public_jwk: Option<serde_json::Value>,
    /// For the HS algorithms only: the shared secret, base64url without padding. Shown once.
    secret: Option<String>,
}

/// The account's webhook policies, listed whole or by a predefined filter.
pub(super) struct WebhookPolicies;

impl FilteredCollection for WebhookPolicies {
    type View = WebhookPolicyView;

    async fn page(
        state: &AppState,
        Caller { principal, account }: &Caller,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<WebhookPolicyView>> {
        state
            .services
            .webhook_policies(account, Some(principal), filter, query)
            .await
    }
}

/// The account's webhook policies, without key material. Needs `webhook_policies:read` and an
/// administrator.
#[utoipa::path(
    get, path = "/v1/webhook_policies", tag = "webhook_policies", params(ListParams),
    operation_id = "list_webhook_policies",
    responses(
        (status = 200, description = "A page of policies", body = [WebhookPolicyView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_policies(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<WebhookPolicies>(request, WebhookFilter::default()).await
}

/// The predefined filter `enabled`.
#[utoipa::path(
    get, path = "/v1/webhook_policies/enabled", tag = "webhook_policies", params(ListParams),
    operation_id = "list_enabled_webhook_policies",
    responses(
        (status = 200, description = "A page of enabled policies", body = [WebhookPolicyView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_enabled_policies(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<WebhookPolicies>(request, ENABLED).await
}

/// The predefined filter `disabled`.
#[utoipa::path(
    get, path = "/v1/webhook_policies/disabled", tag = "webhook_policies", params(ListParams),
    operation_id = "list_disabled_webhook_policies",
    responses(
        (status = 200, description = "A page of disabled policies", body = [WebhookPolicyView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_disabled_policies(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<WebhookPolicies>(request, DISABLED).await
}

/// Creates a policy and its key pair. The answer holds `public_key_pem` and `public_jwk` (for
/// HS algorithms, `secret`): **the only time they are shown** — download them now.
#[utoipa::path(
    post, path = "/v1/webhook_policies", tag = "webhook_policies", request_body = CreatePolicyBody,
    operation_id = "create_webhook_policy",
    responses(
        (status = 201, description = "Created, with its one-time public key", body = CreatedPolicyView),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
    )
)]
async fn create_policy(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiJson(body): ApiJson<CreatePolicyBody>,
) -> ApiResult<Response> {
    let new = NewWebhookPolicy {
        name: body.name,
        jwt_alg: body.jwt_alg,
        jwt_claim_expires_in: body.jwt_claim_expires_in,
        jwt_audience: body.jwt_audience,
        jwt_format: body.jwt_format,
        disabled: body.disabled,
        webhook_ids: body.webhook_ids,
        source: RecordSource::new(body.source, body.source_id),
    };
    let (policy, key) = state
        .services
        .create_webhook_policy(&account, Some(&principal), new)
        .await?;
    record_response(
        StatusCode::CREATED,
        &CreatedPolicyView { policy, key },
        None,
    )
}

/// One webhook policy, with its keys' ids and dates (never their material).
#[utoipa::path(
    get, path = "/v1/webhook_policies/{id}", tag = "webhook_policies",
    operation_id = "get_webhook_policy",
    params(("id" = Uuid, Path, description = "Webhook policy id"), FieldsParams),
    responses(
        (status = 200, description = "The policy, without key material", body = WebhookPolicyView),
        (status = 404, description = "No such webhook policy in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or fields", body = ErrorBody),
    )
)]
async fn get_policy(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let policy = state
        .services
        .webhook_policy(&account, Some(&principal), WebhookPolicyId(id))
        .await?;
    record_response(StatusCode::OK, &policy, params.fields.as_deref())
}

/// Changes a policy. Enabling a disabled policy sends the deliveries that waited for it.
#[utoipa::path(
    patch, path = "/v1/webhook_policies/{id}", tag = "webhook_policies", request_body = UpdatePolicyBody,
    operation_id = "update_webhook_policy",
    params(("id" = Uuid, Path, description = "Webhook policy id")),
    responses(
        (status = 200, description = "Updated; with the new key's public half when jwt_alg changed", body = UpdatedPolicyView),
        (status = 409, description = "jwt_alg can't change while a rotation waits to complete", body = ErrorBody),
        (status = 404, description = "No such webhook policy in this account", body = ErrorBody),
        (status = 422, description = "Invalid fields, a changed algorithm or unknown webhooks", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn update_policy(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdatePolicyBody>,
) -> ApiResult<Response> {
    let changes = WebhookPolicyChanges {
        name: body.name,
        jwt_alg: body.jwt_alg,
        jwt_claim_expires_in: body.jwt_claim_expires_in,
        jwt_audience: body.jwt_audience,
        jwt_format: body.jwt_format,
        disabled: body.disabled,
        webhook_ids: body.webhook_ids,
        source: body.source,
        source_id: body.source_id,
    };
    let (policy, key) = state
        .services
        .update_webhook_policy(&account, Some(&principal), WebhookPolicyId(id), changes)
        .await?;
    record_response(StatusCode::OK, &UpdatedPolicyView::new(policy, key), None)
}

/// Deletes a policy no webhook links to.
#[utoipa::path(
    delete, path = "/v1/webhook_policies/{id}", tag = "webhook_policies",
    operation_id = "delete_webhook_policy",
    params(("id" = Uuid, Path, description = "Webhook policy id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook policy in this account", body = ErrorBody),
        (status = 409, description = "Webhooks still link to it", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn delete_policy(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .services
        .delete_webhook_policy(&account, Some(&principal), WebhookPolicyId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new key pair that starts signing when `overlap_seconds` (default one day) have
/// passed; until then the current key signs. Messages name their key in the JWS `kid` header.
/// The answer is the only time the new public key is shown.
#[utoipa::path(
    post, path = "/v1/webhook_policies/{id}/rotate", tag = "webhook_policies",
    operation_id = "rotate_webhook_policy_key",
    request_body = RotateBody,
    params(("id" = Uuid, Path, description = "Webhook policy id")),
    responses(
        (status = 200, description = "The new key, shown once", body = CreatedPolicyKey),
        (status = 404, description = "No such webhook policy in this account", body = ErrorBody),
        (status = 409, description = "A rotation is already under way", body = ErrorBody),
        (status = 422, description = "Overlap out of range, or unknown fields", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn rotate_policy(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RotateBody>,
) -> ApiResult<Response> {
    let key = state
        .services
        .rotate_webhook_policy(
            &account,
            Some(&principal),
            WebhookPolicyId(id),
            body.overlap_seconds,
        )
        .await?;
    record_response(StatusCode::OK, &key, None)
}
