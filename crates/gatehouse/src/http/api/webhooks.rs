//! `/v1/webhooks`: the account's webhooks (account and directory administrators), their
//! predefined filters `enabled` and `disabled`, re-sending the verification message and
//! redelivering what failed. `/v1/webhook_verifications/{secret}` is the callback a
//! verification message carries; it takes no token (the secret is the credential).
//! `/v1/webhooks/{id}/signing_secret` shows and rotates the Standard Webhooks secret.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::deliveries::{DeliveryListParams, delivery_list};
use super::{
    ApiJson, ApiPath, ApiQuery, ErrorBody, FieldsParams, ListParams, double_option, record_response,
};
use super::{Caller, DISABLED, ENABLED, FilteredCollection, ListRequest, filtered_list};
use crate::domain::{RecordSource, WebhookId};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{
    DeliveryView, NewWebhook, RotatedSecret, ServiceResult, WebhookChanges, WebhookSecretView,
    WebhookView,
};
use crate::store::{ListQuery, Listing, WebhookFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(list_enabled_webhooks))
        .routes(routes!(list_disabled_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(resend_verification))
        .routes(routes!(send_test_message))
        .routes(routes!(get_signing_secret))
        .routes(routes!(rotate_signing_secret))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(redeliver_failed))
}

/// Routes that take no bearer token.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_webhook, verify_webhook_by_post))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// What it listens to: a catalog event (`GET /v1/events/catalog`), a namespace wildcard
    /// such as `person.*`, or a custom event such as `app.invoice.paid`.
    #[schema(example = "scim_user.create", max_length = 100)]
    pub event: String,
    /// Where messages are POSTed: `http` or `https`, a public address unless the server allows
    /// private targets. `https://user:password@host/…` sends basic authentication; the password
    /// is sealed and shown as `***`.
    #[schema(example = "https://example.org/hooks/gatehouse", max_length = 2048)]
    pub uri: String,
    /// Defaults to the event.
    #[schema(max_length = 120)]
    pub name: Option<String>,
    /// Sends nothing while true.
    #[serde(default)]
    pub disabled: bool,
    pub description: Option<String>,
    /// The webhook policy whose key signs its messages.
    pub webhook_policy_id: Option<Uuid>,
    /// Addresses (comma or newline separated, at most 10) that hear about failures; when
    /// empty, every account administrator does.
    pub mail_exceptions_to: Option<String>,
    /// Deliver strictly in event order, one message at a time.
    #[serde(default)]
    pub ordered: bool,
    /// At most this many attempts per second (per server process).
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_limit_per_second: Option<u32>,
    /// OpenID Connect discovery (Xurrent's): its policy's messages name an issuer that serves
    /// the policy's public keys. Needs a policy with a public key (not hs*).
    #[serde(default)]
    pub openid_connect_discovery: bool,
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
pub struct UpdateWebhookBody {
    #[schema(max_length = 100)]
    pub event: Option<String>,
    /// A new URI must be verified again; until then the webhook sends nothing else.
    #[schema(max_length = 2048)]
    pub uri: Option<String>,
    #[schema(max_length = 120)]
    pub name: Option<String>,
    /// `false` re-enables a webhook (also one disabled after repeated failures) and restarts
    /// its failure count.
    pub disabled: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `null` unlinks the policy.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub webhook_policy_id: Option<Option<Uuid>>,
    /// `null` or `""`: every account administrator.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mail_exceptions_to: Option<Option<String>>,
    pub ordered: Option<bool>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub rate_limit_per_second: Option<Option<u32>>,
    pub openid_connect_discovery: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 30)]
    pub source: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, rename = "sourceID", deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub source_id: Option<Option<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliverFailedBody {
    /// Failed deliveries created at or after this moment are sent again.
    pub since: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RedeliveredCount {
    /// How many new deliveries were queued (at most 10,000 per call; call again for more).
    pub redelivered: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub message: String,
    pub webhook_id: Uuid,
}

/// The account's webhooks, listed whole or by a predefined filter.
pub(super) struct Webhooks;

impl FilteredCollection for Webhooks {
    type View = WebhookView;

    async fn page(
        state: &AppState,
        Caller { principal, account }: &Caller,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> ServiceResult<Listing<WebhookView>> {
        let listing = state
            .services
            .webhooks(account, Some(principal), filter, query)
            .await?;
        Ok(listing.views(WebhookView::new))
    }
}

/// The account's webhooks. Needs `webhooks:read` and an administrator.
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks", params(ListParams),
    operation_id = "list_webhooks",
    responses(
        (status = 200, description = "A page of webhooks; see the Link and X-Pagination-* headers", body = [WebhookView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_webhooks(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<Webhooks>(request, WebhookFilter::default()).await
}

/// The predefined filter `enabled`.
#[utoipa::path(
    get, path = "/v1/webhooks/enabled", tag = "webhooks", params(ListParams),
    operation_id = "list_enabled_webhooks",
    responses(
        (status = 200, description = "A page of enabled webhooks", body = [WebhookView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_enabled_webhooks(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<Webhooks>(request, ENABLED).await
}

/// The predefined filter `disabled`.
#[utoipa::path(
    get, path = "/v1/webhooks/disabled", tag = "webhooks", params(ListParams),
    operation_id = "list_disabled_webhooks",
    responses(
        (status = 200, description = "A page of disabled webhooks", body = [WebhookView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_disabled_webhooks(request: ListRequest) -> ApiResult<Response> {
    filtered_list::<Webhooks>(request, DISABLED).await
}

/// Creates a webhook and sends its `webhook.verify` message at once; it receives nothing else
/// until the callback in that message is called. Needs `webhooks:write` and an administrator.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhookBody,
    operation_id = "create_webhook",
    responses(
        (status = 201, description = "Created, unverified; with its signing secret, shown in full here", body = CreatedWebhookView),
        (status = 422, description = "Invalid fields, or a URI the SSRF rules refuse", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
    )
)]
async fn create_webhook(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiJson(body): ApiJson<CreateWebhookBody>,
) -> ApiResult<Response> {
    let new = NewWebhook {
        name: body.name,
        event: body.event,
        uri: body.uri,
        disabled: body.disabled,
        description: body.description,
        webhook_policy_id: body.webhook_policy_id,
        mail_exceptions_to: body.mail_exceptions_to,
        ordered: body.ordered,
        rate_limit_per_second: body.rate_limit_per_second,
        openid_connect_discovery: body.openid_connect_discovery,
        source: RecordSource::new(body.source, body.source_id),
    };
    let created = state
        .services
        .create_webhook(&account, Some(&principal), new)
        .await?;
    let view = CreatedWebhookView {
        webhook: WebhookView::new(&created.webhook),
        signing_secret: created.signing_secret.to_string(),
    };
    record_response(StatusCode::CREATED, &view, None)
}

/// A new webhook and its Standard Webhooks signing secret.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedWebhookView {
    #[serde(flatten)]
    webhook: WebhookView,
    /// `whsec_…`: verifies the `webhook-signature` header of messages no policy signs
    /// (Standard Webhooks). Administrators can read it again at `/signing_secret`.
    signing_secret: String,
}

/// The webhook's live Standard Webhooks signing secrets, newest first (during a rotation's
/// overlap, the previous ones too). Needs `webhooks:write`: a secret lets its holder forge
/// messages.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/signing_secret", tag = "webhooks",
    operation_id = "get_webhook_signing_secret",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The live secrets", body = [WebhookSecretView]),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn get_signing_secret(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let secrets = state
        .services
        .webhook_signing_secrets(&account, Some(&principal), WebhookId(id))
        .await?;
    record_response(StatusCode::OK, &secrets, None)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RotateBody {
    /// How long the previous secret (or key) keeps working, in seconds: 0 to 2,592,000
    /// (30 days); default 86,400 (one day).
    #[serde(default)]
    pub(super) overlap_seconds: Option<i64>,
}

/// Makes a new signing secret current. During the overlap every message carries a signature
/// by each live secret, so a receiver holding either verifies it.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/signing_secret/rotate", tag = "webhooks",
    operation_id = "rotate_webhook_signing_secret",
    request_body = RotateBody,
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 422, description = "Overlap out of range, or unknown fields", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn rotate_signing_secret(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RotateBody>,
) -> ApiResult<Response> {
    let rotated = state
        .services
        .rotate_webhook_secret(
            &account,
            Some(&principal),
            WebhookId(id),
            body.overlap_seconds,
        )
        .await?;
    record_response(StatusCode::OK, &rotated, None)
}

/// One webhook (never its verification secret).
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "Webhook id"), FieldsParams),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn get_webhook(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let webhook = state
        .services
        .webhook(&account, Some(&principal), WebhookId(id))
        .await?;
    record_response(
        StatusCode::OK,
        &WebhookView::new(&webhook),
        params.fields.as_deref(),
    )
}

/// Changes the given fields. A new URI is unverified until its owner calls the callback of the
/// new `webhook.verify` message.
#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks", request_body = UpdateWebhookBody,
    operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook as updated", body = WebhookView),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn update_webhook(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateWebhookBody>,
) -> ApiResult<Response> {
    let changes = WebhookChanges {
        name: body.name,
        event: body.event,
        uri: body.uri,
        disabled: body.disabled,
        description: body.description,
        webhook_policy_id: body.webhook_policy_id,
        mail_exceptions_to: body
            .mail_exceptions_to
            .map(|text| text.filter(|text| !text.trim().is_empty())),
        ordered: body.ordered,
        rate_limit_per_second: body.rate_limit_per_second,
        openid_connect_discovery: body.openid_connect_discovery,
        source: body.source,
        source_id: body.source_id,
    };
    let webhook = state
        .services
        .update_webhook(&account, Some(&principal), WebhookId(id), changes)
        .await?;
    record_response(StatusCode::OK, &WebhookView::new(&webhook), None)
}

/// Deletes a webhook with its deliveries.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn delete_webhook(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .services
        .delete_webhook(&account, Some(&principal), WebhookId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends one test message for the webhook's event (Xurrent's "Test"): the normal envelope,
/// `object_id` `12345`, signed like any other, also while the webhook is disabled. Its delivery
/// has `test_mode: true`.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/test", tag = "webhooks",
    operation_id = "send_webhook_test_message",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Queued; GET /v1/webhook_deliveries?test_mode=true shows it"),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 409, description = "The webhook's URI is not verified yet", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn send_test_message(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .services
        .send_test_message(&account, Some(&principal), WebhookId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a new `webhook.verify` message; the previous callback stops working.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/verification", tag = "webhooks",
    operation_id = "resend_webhook_verification",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "Queued", body = WebhookView),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 409, description = "Already verified", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let webhook = state
        .services
        .resend_verification(&account, Some(&principal), WebhookId(id))
        .await?;
    record_response(StatusCode::ACCEPTED, &WebhookView::new(&webhook), None)
}

/// A webhook's deliveries (as `GET /v1/webhook_deliveries?webhook_id=…`).
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    operation_id = "list_deliveries_of_webhook",
    params(("id" = Uuid, Path, description = "Webhook id"), DeliveryListParams),
    responses(
        (status = 200, description = "A page of deliveries", body = [DeliveryView]),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn list_webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(mut params): ApiQuery<DeliveryListParams>,
    uri: Uri,
) -> ApiResult<Response> {
    params.webhook_id = Some(id.to_string());
    delivery_list(state, caller, params, uri).await
}

/// Redelivers every failed delivery of the webhook created since `since` that was not
/// redelivered yet.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/redeliver_failed", tag = "webhooks",
    operation_id = "redeliver_failed_deliveries_of_webhook",
    request_body = RedeliverFailedBody,
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "Queued", body = RedeliveredCount),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
        (status = 422, description = "Unknown fields", body = ErrorBody),
        (status = 400, description = "Malformed id or JSON", body = ErrorBody),
    )
)]
async fn redeliver_failed(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RedeliverFailedBody>,
) -> ApiResult<Response> {
    let redelivered = state
        .services
        .redeliver_failed(&account, Some(&principal), WebhookId(id), body.since)
        .await?;
    record_response(
        StatusCode::ACCEPTED,
        &RedeliveredCount { redelivered },
        None,
    )
}

/// The callback a `webhook.verify` message carries: calling it proves the caller received the
/// message, and activates the webhook. Works once, within 24 hours of its sending; no token
/// needed.
#[utoipa::path(
    get, path = "/v1/webhook_verifications/{secret}", tag = "webhooks", security(()),
    operation_id = "verify_webhook",
    params(("secret" = String, Path, description = "The one-time secret from the verification message")),
    responses(
        (status = 200, description = "Verified", body = Verified),
        (status = 404, description = "Unknown, already used or replaced", body = ErrorBody),
        (status = 410, description = "Expired: more than 24 hours old; send the verification again", body = ErrorBody),
    )
)]
async fn verify_webhook(state: State<AppState>, secret: ApiPath<String>) -> ApiResult<Response> {
    verify(state, secret).await
}

/// The same callback called with POST, as Xurrent accepts it (a receiver may call it either
/// way; the request's body is ignored).
#[utoipa::path(
    post, path = "/v1/webhook_verifications/{secret}", tag = "webhooks", security(()),
    operation_id = "verify_webhook_by_post",
    params(("secret" = String, Path, description = "The one-time secret from the verification message")),
    responses(
        (status = 200, description = "Verified", body = Verified),
        (status = 404, description = "Unknown, already used or replaced", body = ErrorBody),
        (status = 410, description = "Expired: more than 24 hours old; send the verification again", body = ErrorBody),
    )
)]
async fn verify_webhook_by_post(
    state: State<AppState>,
    secret: ApiPath<String>,
) -> ApiResult<Response> {
    verify(state, secret).await
}

async fn verify(
    State(state): State<AppState>,
    ApiPath(secret): ApiPath<String>,
) -> ApiResult<Response> {
    let webhook = state.services.verify_webhook(&secret).await?;
    record_response(
        StatusCode::OK,
        &Verified {
            message: format!("Webhook {:?} is verified", webhook.name),
            webhook_id: webhook.id.0,
        },
        None,
    )
}
