//! `/v1/webhook_deliveries`: every message the account's webhooks sent or will send, each with
//! all its attempts, and redelivery. `/v1/webhook_notifications`: the exception and disabled
//! notices (kept whether or not SMTP is configured). Administrators only.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    ApiPath, ApiQuery, ErrorBody, FieldsParams, SortFields, list_query, list_response,
    record_response,
};
use super::{Caller, DeliveryStatusName};
use crate::domain::DeliveryId;
use crate::http::AppState;
use crate::http::delivery_filter::{DeliveryFilterParams, Sender};
use crate::http::error::{ApiError, ApiResult};
use crate::http::pagination::Page;
use crate::service::{DeliveryView, NotificationView};
use crate::store::{DeliveryFilter, ListQuery, SortField};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(redeliver))
        .routes(routes!(list_notifications))
}

const SORT_FIELDS: SortFields = &[
    ("created_at", SortField::CreatedAt),
    ("updated_at", SortField::UpdatedAt),
];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
    /// `created_at` or `updated_at`; prefix `-` for descending (`-created_at`: newest first).
    /// Default `created_at`.
    pub sort: Option<String>,
    /// Comma-separated fields to return.
    pub fields: Option<String>,
    /// Only this webhook's deliveries (a webhook id; `/v1/webhooks/{id}/deliveries` takes the
    /// path's instead, so the schema can't promise a format this route checks).
    pub webhook_id: Option<String>,
    /// Only deliveries of this event.
    pub event: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    #[param(inline, value_type = Option<DeliveryStatusName>)]
    pub status: Option<String>,
    /// `true`: only test sends (`POST /v1/webhooks/{id}/test`); `false`: only real events.
    #[param(value_type = Option<bool>)]
    pub test_mode: Option<String>,
    /// Only deliveries created at or after this moment (RFC 3339).
    #[param(format = DateTime)]
    pub created_after: Option<String>,
    /// Only deliveries created before this moment (RFC 3339).
    #[param(format = DateTime)]
    pub created_before: Option<String>,
}

impl DeliveryListParams {
    fn filter(&self) -> ApiResult<DeliveryFilter> {
        DeliveryFilterParams {
            webhook_id: self.webhook_id.clone(),
            event: self.event.clone(),
            status: self.status.clone(),
            test_mode: self.test_mode.clone(),
            created_after: self.created_after.clone(),
            created_before: self.created_before.clone(),
        }
        .parse(Sender::Api)
        .map_err(ApiError::bad_request)
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
}

pub(super) async fn delivery_list(
    state: AppState,
    Caller { principal, account }: Caller,
    params: DeliveryListParams,
    uri: Uri,
) -> ApiResult<Response> {
    let page = Page::from_query(&params.page, &params.per_page)?;
    let query = list_query(page, params.sort.as_deref(), SORT_FIELDS)?;
    let filter = params.filter()?;
    let listing = state
        .services
        .deliveries(&account, Some(&principal), &filter, &query)
        .await?;
    let views = listing.views(DeliveryView::new);
    list_response(&state, &uri, page, views, params.fields.as_deref())
}

/// The account's webhook deliveries, filtered by webhook, event, status and creation time.
/// Needs `webhook_deliveries:read` and an administrator.
#[utoipa::path(
    get, path = "/v1/webhook_deliveries", tag = "webhook_deliveries", params(DeliveryListParams),
    operation_id = "list_webhook_deliveries",
    responses(
        (status = 200, description = "A page of deliveries", body = [DeliveryView]),
        (status = 400, description = "Bad filter, page, per_page, sort or fields", body = ErrorBody),
        (status = 404, description = "The webhook_id names no webhook of this account", body = ErrorBody),
    )
)]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<DeliveryListParams>,
    uri: Uri,
) -> ApiResult<Response> {
    delivery_list(state, caller, params, uri).await
}

/// One delivery: the message, the last request and response, and every attempt.
#[utoipa::path(
    get, path = "/v1/webhook_deliveries/{id}", tag = "webhook_deliveries",
    operation_id = "get_webhook_delivery",
    params(("id" = Uuid, Path, description = "Delivery id"), FieldsParams),
    responses(
        (status = 200, description = "The delivery, with its request and attempts", body = DeliveryView),
        (status = 404, description = "No such delivery in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn get_delivery(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let (delivery, attempts) = state
        .services
        .delivery(&account, Some(&principal), DeliveryId(id))
        .await?;
    record_response(
        StatusCode::OK,
        &DeliveryView::with_attempts(&delivery, attempts),
        params.fields.as_deref(),
    )
}

/// Sends a finished delivery's message again, as a new delivery linked to this one
/// (`redelivery_of_id` / `redelivered_by_id`).
#[utoipa::path(
    post, path = "/v1/webhook_deliveries/{id}/redeliver", tag = "webhook_deliveries",
    operation_id = "redeliver_webhook_delivery",
    params(("id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "The new delivery, queued", body = DeliveryView),
        (status = 404, description = "No such delivery in this account", body = ErrorBody),
        (status = 409, description = "Still pending, or already redelivered", body = ErrorBody),
        (status = 400, description = "Malformed id", body = ErrorBody),
    )
)]
async fn redeliver(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let delivery = state
        .services
        .redeliver(&account, Some(&principal), DeliveryId(id))
        .await?;
    record_response(StatusCode::ACCEPTED, &DeliveryView::new(&delivery), None)
}

/// Exception and disabled notices about the account's webhooks, newest first, with whether
/// they were mailed.
#[utoipa::path(
    get, path = "/v1/webhook_notifications", tag = "webhook_deliveries", params(PageParams),
    operation_id = "list_webhook_notifications",
    responses(
        (status = 200, description = "A page of notices", body = [NotificationView]),
        (status = 400, description = "Bad page or per_page", body = ErrorBody),
    )
)]
async fn list_notifications(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiQuery(params): ApiQuery<PageParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let page = Page::from_query(&params.page, &params.per_page)?;
    let query = ListQuery {
        offset: page.offset(),
        limit: page.limit(),
        sort: vec![(
            crate::store::SortField::CreatedAt,
            crate::store::SortDirection::Descending,
        )],
    };
    let listing = state
        .services
        .webhook_notifications(&account, Some(&principal), &query)
        .await?;
    list_response(&state, &uri, page, listing, None)
}
