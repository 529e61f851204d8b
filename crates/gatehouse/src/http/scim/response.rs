//! SCIM responses: JSON with the `application/scim+json` media type, and the mapping of
//! service errors to SCIM error messages.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;

use crate::http::error::ApiError;
use crate::service::ServiceError;
use crate::service::scim::ListPage;

pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// What a SCIM handler answers: a response, or a SCIM error message.
pub type ScimResult = Result<Response, ScimFailure>;

/// A SCIM resource or message with its status.
pub struct ScimResponse(pub StatusCode, pub serde_json::Value);

impl IntoResponse for ScimResponse {
    fn into_response(self) -> Response {
        let mut response = (self.0, axum::Json(self.1)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_MEDIA_TYPE),
        );
        response
    }
}

/// The weak ETag of a resource version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// One resource with its ETag, and its `Location` when it was just created.
pub fn resource_response(
    status: StatusCode,
    body: serde_json::Value,
    version: i64,
    location: &str,
) -> Response {
    let mut response = ScimResponse(status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    if status == StatusCode::CREATED
        && let Ok(value) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `204 No Content` for a write whose answer the account asked to leave out, still with the
/// new version's ETag so the client can send `If-Match` next time.
pub fn no_content(version: i64) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `304 Not Modified` (with the ETag) when `If-None-Match` names the current version or `*`.
pub fn not_modified(headers: &HeaderMap, version: i64) -> Option<Response> {
    let current = etag(version);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == current || tag.trim() == "*")
        });
    unchanged.then(|| {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(&current) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    })
}

const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A `ListResponse` message (RFC 7644 §3.4.2): one page of resources and where it starts, by
/// index, or (RFC 9865) the cursor of the next page when one follows.
pub fn list_message<T>(page: &ListPage<T>, resources: Vec<serde_json::Value>) -> serde_json::Value {
    let mut message = serde_json::json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": page.total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(start_index) = page.start_index {
        message["startIndex"] = serde_json::Value::from(start_index);
    }
    if let Some(cursor) = &page.next_cursor {
        message["nextCursor"] = serde_json::Value::from(cursor.clone());
    }
    message
}

/// A `ListResponse` of one page, each item as `represent` shows it.
pub fn list_response<T>(
    page: &ListPage<T>,
    represent: impl FnMut(&T) -> serde_json::Value,
) -> Response {
    let resources = page.items.iter().map(represent).collect();
    ScimResponse(StatusCode::OK, list_message(page, resources)).into_response()
}

/// A `ListResponse` holding the whole list (discovery endpoints do not paginate).
pub fn whole_list_message(resources: Vec<serde_json::Value>) -> serde_json::Value {
    let page = ListPage::<()> {
        items: Vec::new(),
        total: u64::try_from(resources.len()).unwrap_or(u64::MAX),
        start_index: Some(1),
        next_cursor: None,
    };
    list_message(&page, resources)
}

/// A SCIM error message, keeping any `WWW-Authenticate` challenge RFC 6750 asks for. Boxed, so
/// results that may carry one stay small.
pub struct ScimFailure(Box<Failure>);

struct Failure {
    error: ScimError,
    headers: HeaderMap,
}

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        Self(Box::new(Failure {
            error,
            headers: HeaderMap::new(),
        }))
    }
}

impl From<ServiceError> for ScimFailure {
    fn from(error: ServiceError) -> Self {
        if let ServiceError::Scim(error) = error {
            return Self::from(error);
        }
        // Reuse the REST mapping for status and challenge; the body becomes a SCIM message.
        let detail = match &error {
            ServiceError::Store(_) | ServiceError::Internal(_) => "Internal error".to_owned(),
            other => other.to_string(),
        };
        let api_error = ApiError::from(error);
        let mut headers = HeaderMap::new();
        if let Some(challenge) = api_error.headers().get(header::WWW_AUTHENTICATE) {
            headers.insert(header::WWW_AUTHENTICATE, challenge.clone());
        }
        let error = ScimError::new(api_error.status().as_u16(), None, detail);
        Self(Box::new(Failure { error, headers }))
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let Failure { error, headers } = *self.0;
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = ScimResponse(status, error.to_json()).into_response();
        response.headers_mut().extend(headers);
        response
    }
}
