//! Submitted forms: `application/x-www-form-urlencoded` bodies with repeated keys (checkbox
//! lists), checked for the session's CSRF token and, when the browser names one, our origin.
//! A form that fails either check changes nothing.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::PageError;
use super::session::Session;
use crate::http::AppState;
use crate::service::ServiceError;

/// The largest form body accepted.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
pub const CSRF_FIELD: &str = "csrf_token";

/// The fields of a form, in the order sent.
#[derive(Clone, Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.trimmed(name).next().filter(|value| !value.is_empty())
    }

    /// Whether the form sent `name` at all, blank or not (a select left at "None" sends it
    /// blank; a form that did not offer the field does not send it).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    /// The first value of `name` as typed, `""` when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every non-blank value of `name` (a list of checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.trimmed(name)
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// Every value of `name` in the order sent, trimmed, blank ones included.
    fn trimmed<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.trim())
    }

    /// A whole number typed in `name`, if any; anything else is refused with `problem` (the
    /// service checks the range, so its message stays the one source of the limits).
    pub fn number<T: std::str::FromStr>(
        &self,
        name: &str,
        problem: impl FnOnce() -> String,
    ) -> Result<Option<T>, PageError> {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|_| PageError::from(ServiceError::invalid(vec![problem()])))
            })
            .transpose()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A form posted by a signed-in person, its CSRF token checked.
pub struct Submitted {
    pub session: Session,
    pub fields: Fields,
}

impl FromRequest<AppState> for Submitted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let fields = read_fields(&parts.headers, body, state).await?;
        if !tokens_match(fields.get(CSRF_FIELD), &session.csrf_token) {
            return Err(forged().into_response());
        }
        Ok(Self { session, fields })
    }
}

/// Reads a form body after checking `Origin` (when sent) is this service.
pub async fn read_fields(
    headers: &HeaderMap,
    body: axum::body::Body,
    state: &AppState,
) -> Result<Fields, Response> {
    if !same_origin(headers, &state.base_url) {
        return Err(forged().into_response());
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Form too large",
                format!("A form may hold at most {} KiB.", MAX_FORM_BYTES / 1024),
            )
            .into_response()
        })?;
    Ok(Fields::parse(&bytes))
}

pub fn tokens_match(sent: Option<&str>, expected: &str) -> bool {
    sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())))
}

pub fn forged() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form was not sent from a console page of this session (its security token is \
         missing or stale). Reload the page and try again; nothing was changed.",
    )
}

/// `Origin`, when the browser sends it, must be our public URL or the host the request was
/// sent to (a proxy may rewrite the latter; the former is what the operator configured).
fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    if origin == base_url.trim_end_matches('/') {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_all_kept_and_blank_values_dropped() {
        let fields = Fields::parse(b"scopes=a%3Aread&scopes=b%3Awrite&scopes=&name=+Ada+&flag=on");
        assert_eq!(fields.all("scopes"), vec!["a:read", "b:write"]);
        assert_eq!(fields.get("name"), Some("Ada"));
        assert!(fields.checked("flag"));
        assert!(!fields.checked("other"));
        assert_eq!(fields.text("missing"), "");
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abd"), "abc"));
        assert!(!tokens_match(None, "abc"));
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers, "http://127.0.0.1:8080"));
        headers.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&headers, "http://127.0.0.1:8080"));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&headers, "http://127.0.0.1:8080"));
        headers.insert(header::HOST, "gatehouse.internal:8080".parse().unwrap());
        headers.insert(
            header::ORIGIN,
            "http://gatehouse.internal:8080".parse().unwrap(),
        );
        assert!(same_origin(&headers, "http://127.0.0.1:8080"));
    }
}
