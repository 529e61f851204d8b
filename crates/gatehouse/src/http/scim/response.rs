//! SCIM responses: JSON with the `application/scim+json` media type, and the mapping of
//! service errors to SCIM error messages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;

use crate::http::error::ApiError;
use crate::service::ServiceError;

pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

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

/// A SCIM error message, keeping any `WWW-Authenticate` challenge RFC 6750 asks for.
pub struct ScimFailure {
    error: ScimError,
    headers: axum::http::HeaderMap,
}

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        Self {
            error,
            headers: axum::http::HeaderMap::new(),
        }
    }
}

impl From<ServiceError> for ScimFailure {
    fn from(error: ServiceError) -> Self {
        // Reuse the REST mapping for status and challenge; the body becomes a SCIM message.
        let detail = match &error {
            ServiceError::Store(_) => "Internal error".to_owned(),
            other => other.to_string(),
        };
        let api_error = ApiError::from(error);
        let mut headers = axum::http::HeaderMap::new();
        if let Some(challenge) = api_error.headers().get(header::WWW_AUTHENTICATE) {
            headers.insert(header::WWW_AUTHENTICATE, challenge.clone());
        }
        Self {
            error: ScimError::new(api_error.status().as_u16(), None, detail),
            headers,
        }
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = ScimResponse(status, self.error.to_json()).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}
