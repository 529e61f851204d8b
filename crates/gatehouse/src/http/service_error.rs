//! The one mapping from service errors to REST responses (RFC 6750 for token problems, our JSON
//! error body for the rest). Store failures are logged here and answered without detail.

use super::error::ApiError;
use crate::service::{AuthFailure, ServiceError};

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Unauthenticated(AuthFailure::Missing) => ApiError::missing_token(),
            ServiceError::Unauthenticated(failure) => ApiError::invalid_token(&failure.to_string()),
            ServiceError::InsufficientScope { scopes, reason } => {
                ApiError::insufficient_scope(&scopes.to_space_separated()).with_message(&reason)
            }
            ServiceError::Forbidden(message) => ApiError::forbidden(message),
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Conflict(message) => ApiError::conflict(message),
            ServiceError::Gone(message) => ApiError::new(axum::http::StatusCode::GONE, message),
            ServiceError::Invalid { message, errors } => ApiError::unprocessable(message, errors),
            ServiceError::Scim(error) => {
                let status = axum::http::StatusCode::from_u16(error.status)
                    .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
                ApiError::new(status, error.detail)
            }
            ServiceError::Store(error) => ApiError::internal_with(error),
            ServiceError::Internal(error) => ApiError::internal_with(error),
        }
    }
}
