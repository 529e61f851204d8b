//! The console's one mapping from service errors to pages: the same statuses and wording as
//! the REST API, as HTML. An ended session sends the browser back to sign-in instead.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::layout;
use crate::service::ServiceError;

#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    /// For 422: what was wrong with each field.
    pub errors: Vec<String>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("{what} not found in this account."),
        )
    }

    /// The text a form shows above itself when a command was refused.
    pub fn summary(&self) -> String {
        let details: Vec<&str> = self
            .errors
            .iter()
            .map(String::as_str)
            .filter(|error| *error != self.message)
            .collect();
        if details.is_empty() {
            self.message.clone()
        } else {
            format!(
                "{}: {}",
                self.message.trim_end_matches('.'),
                details.join("; ")
            )
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Unauthenticated(failure) => {
                Self::new(StatusCode::UNAUTHORIZED, "Signed out", failure.to_string())
            }
            ServiceError::InsufficientScope { reason, .. } => {
                Self::new(StatusCode::FORBIDDEN, "Not allowed", format!("{reason}."))
            }
            ServiceError::Forbidden(message) => {
                Self::new(StatusCode::FORBIDDEN, "Not allowed", message)
            }
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Conflict(message) => {
                Self::new(StatusCode::CONFLICT, "Not possible now", message)
            }
            ServiceError::Gone(message) => Self::new(StatusCode::GONE, "Expired", message),
            ServiceError::Invalid { message, errors } => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Please check the form",
                message,
                errors,
            },
            ServiceError::Scim(error) => Self::new(
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
                "Bad request",
                error.detail,
            ),
            ServiceError::Store(error) => {
                tracing::error!(%error, "console: store failure");
                Self::internal()
            }
            ServiceError::Internal(error) => {
                tracing::error!(%error, "console: internal failure");
                Self::internal()
            }
        }
    }
}

impl PageError {
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The request could not be completed; it was logged. Try again in a moment.",
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/console/sign-in?ended=1").into_response();
        }
        let body = layout::bare(
            self.title,
            html! {
                h1 { (self.title) }
                div.error role="alert" {
                    p { (self.message) }
                    @if !self.errors.is_empty() {
                        ul { @for error in &self.errors { li { (error) } } }
                    }
                }
                p { a href="/console/tokens" { "Back to the console" } }
            },
        );
        (self.status, body).into_response()
    }
}

pub type PageResult<T> = Result<T, PageError>;

/// A part of a page the session may not be allowed to read: `Ok(None)` when its scopes or roles
/// don't allow it (the page leaves the part out); any other failure — the database's, say — is
/// the part's error (logged as every page error is), for the page to show instead of passing
/// it off as "nothing to show".
pub fn if_allowed<T>(result: Result<T, ServiceError>) -> PageResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ServiceError::InsufficientScope { .. } | ServiceError::Forbidden(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// An id from a path; a malformed one names nothing, so it is "not found" like a missing one.
pub fn parse_id(raw: &str, what: &str) -> PageResult<uuid::Uuid> {
    uuid::Uuid::parse_str(raw).map_err(|_| PageError::not_found(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_each_problem_once() {
        let one = PageError::from(ServiceError::invalid(vec!["uri: not a URL".to_owned()]));
        assert_eq!(
            one.summary().matches("uri: not a URL").count(),
            1,
            "{}",
            one.summary()
        );
        let two = PageError::from(ServiceError::invalid(vec!["a".to_owned(), "b".to_owned()]));
        assert!(two.summary().ends_with("a; b"), "{}", two.summary());
    }
}
