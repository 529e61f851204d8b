//! The session cookie: set at sign-in (HttpOnly, SameSite=Strict, Secure behind https), read on
//! every request and turned into the `Principal` the token behind it is now.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::error::PageError;
use crate::domain::Account;
use crate::http::AppState;
use crate::service::{CONSOLE_SESSION_MAX_HOURS, ConsoleSessionCookie, Principal, ServiceError};

pub const SESSION_COOKIE: &str = "gatehouse_session";

/// A signed-in person, as of this request, with the CSRF token their forms must carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub principal: Principal,
    pub csrf_token: String,
}

impl Session {
    pub fn is_administrator(&self) -> bool {
        self.principal.roles.is_administrator()
    }

    /// The account the session acts in, as the webhook, policy and delivery services take it.
    pub async fn account(&self, state: &AppState) -> Result<Account, PageError> {
        Ok(state.services.account(&self.principal.account_id).await?)
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value for the console: HttpOnly, SameSite=Strict, `Secure` when the public
/// URL is https. `max_age_secs` 0 deletes the cookie.
pub fn set_cookie(
    base_url: &str,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
) -> String {
    let secure = if base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

pub fn session_cookie_header(state: &AppState, cookie: &ConsoleSessionCookie) -> String {
    set_cookie(
        &state.base_url,
        SESSION_COOKIE,
        cookie.expose(),
        "/console",
        CONSOLE_SESSION_MAX_HOURS * 3600,
    )
}

pub fn clear_session_cookie_header(state: &AppState) -> String {
    set_cookie(&state.base_url, SESSION_COOKIE, "", "/console", 0)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in(parts, false));
        };
        let cookie = ConsoleSessionCookie::from_header_value(value);
        match state.services.console_principal(&cookie).await {
            Ok(principal) => Ok(Session {
                principal,
                csrf_token: cookie.csrf_token(),
            }),
            Err(ServiceError::Unauthenticated(_)) => {
                let mut response = to_sign_in(parts, true);
                if let Ok(value) = clear_session_cookie_header(state).parse() {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
                Err(response)
            }
            Err(error) => Err(PageError::from(error).into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// Back to sign-in, remembering the page asked for (GETs only: a form posted into an ended
/// session is not replayed).
fn to_sign_in(parts: &Parts, ended: bool) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if ended {
        query.append_pair("ended", "1");
    }
    if parts.method == axum::http::Method::GET
        && let Some(path) = parts.uri.path_and_query()
    {
        query.append_pair("next", path.as_str());
    }
    let query = query.finish();
    let location = if query.is_empty() {
        "/console/sign-in".to_owned()
    } else {
        format!("/console/sign-in?{query}")
    };
    Redirect::to(&location).into_response()
}

/// Where to go after sign-in: only a console path of ours, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/console/")
                && !path.starts_with("/console/sign-")
                && !path.contains("//")
                && !path.contains('\\') =>
        {
            path
        }
        _ => "/console/tokens",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(
            safe_next(Some("/console/webhooks?page=2")),
            "/console/webhooks?page=2"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/console/tokens");
        assert_eq!(safe_next(Some("/console//evil.example")), "/console/tokens");
        assert_eq!(safe_next(Some("/console/sign-out")), "/console/tokens");
        assert_eq!(safe_next(Some("/v1/me")), "/console/tokens");
        assert_eq!(safe_next(None), "/console/tokens");
    }

    #[test]
    fn cookies_are_secure_exactly_behind_https() {
        let plain = set_cookie("http://127.0.0.1:8080", SESSION_COOKIE, "v", "/console", 60);
        assert_eq!(
            plain,
            "gatehouse_session=v; Path=/console; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        let tls = set_cookie(
            "https://gatehouse.example",
            SESSION_COOKIE,
            "v",
            "/console",
            60,
        );
        assert!(tls.ends_with("; Secure"), "{tls}");
        assert!(tls.contains("HttpOnly; SameSite=Strict"), "{tls}");
    }

    #[test]
    fn cookie_value_finds_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; gatehouse_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&headers, "missing"), None);
    }
}
