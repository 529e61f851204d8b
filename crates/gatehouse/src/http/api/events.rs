//! `/v1/events`: publishing custom events (`events:write`), which fan out to the webhooks
//! listening to them; `/v1/events/catalog`: every event name Gatehouse itself appends.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Caller;
use super::{ApiJson, ErrorBody, record_response};
use crate::domain::CATALOG;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::service::{PublishEvent, PublishedEvent};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_event))
        .routes(routes!(event_catalog))
}

/// The request header that makes a publish safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Set on an answer replayed for a repeated idempotency key.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEventBody {
    /// Your application's event name: two or more dot-separated segments of lower-case letters,
    /// digits and underscores, outside Gatehouse's own namespaces.
    #[schema(example = "app.invoice.paid", max_length = 100)]
    pub event: String,
    /// The id of the record the event is about.
    #[serde(default)]
    #[schema(example = "inv_1042", max_length = 255)]
    pub object_id: String,
    /// The event's data, delivered as the message's `payload` (a JSON object, at most 256 KiB).
    #[serde(default = "empty_object")]
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub payload: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogEntry {
    pub name: &'static str,
    pub description: &'static str,
}

/// Publishes a custom event. Every enabled, verified webhook listening to it gets a delivery,
/// queued in the same transaction: once this answers 202 the event will be delivered. With an
/// `Idempotency-Key` header, repeating the request within 24 hours answers the first result
/// (`Idempotent-Replayed: true`) instead of publishing twice; the same key with a different
/// body is refused with 422.
#[utoipa::path(
    post, path = "/v1/events", tag = "events", request_body = PublishEventBody,
    operation_id = "publish_event",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; honoured for 24 hours")),
    responses(
        (status = 202, description = "Accepted and queued", body = PublishedEvent),
        (status = 422, description = "Invalid event name, object id, payload or idempotency key, or a key reused with another body", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 413, description = "The body is too large", body = ErrorBody),
    )
)]
async fn publish_event(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PublishEventBody>,
) -> ApiResult<Response> {
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::unprocessable(
                "the Idempotency-Key header must be visible ASCII",
                Vec::new(),
            )
        })?),
        None => None,
    };
    let published = state
        .services
        .publish_event(
            &account,
            Some(&principal),
            PublishEvent {
                event: body.event,
                object_id: body.object_id,
                payload: body.payload,
            },
            key,
        )
        .await?;
    let replayed = published.replayed;
    let mut response = record_response(StatusCode::ACCEPTED, &published, None)?;
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static(IDEMPOTENT_REPLAYED_HEADER),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// Every event Gatehouse appends, with what it means. Webhooks may also listen to
/// `namespace.*` and to custom events published with `POST /v1/events`.
#[utoipa::path(
    get, path = "/v1/events/catalog", tag = "events",
    operation_id = "get_event_catalog",
    responses(
        (status = 200, description = "The events webhooks may listen to", body = [CatalogEntry]),
    )
)]
async fn event_catalog() -> Response {
    let entries: Vec<CatalogEntry> = CATALOG
        .iter()
        .map(|event| CatalogEntry {
            name: event.name,
            description: event.description,
        })
        .collect();
    axum::Json(entries).into_response()
}
