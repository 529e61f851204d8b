//! Sign-in with a personal access token, and sign-out. The sign-in form has its own
//! anti-forgery cookie (there is no session yet), so no other site can sign a browser in as
//! someone else.

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::PageError;
use super::form::{CSRF_FIELD, Submitted, forged, read_fields, tokens_match};
use super::layout;
use super::session::{
    SESSION_COOKIE, clear_session_cookie_header, cookie_value, safe_next, session_cookie_header,
    set_cookie,
};
use crate::http::AppState;
use crate::service::{ConsoleSessionCookie, ServiceError};

const SIGN_IN_COOKIE: &str = "gatehouse_sign_in";
const SIGN_IN_PATH: &str = "/console/sign-in";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(SIGN_IN_PATH, get(sign_in_form).post(sign_in))
        .route("/console/sign-out", post(sign_out))
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    ended: Option<String>,
    signed_out: Option<String>,
}

async fn sign_in_form(
    State(state): State<AppState>,
    Query(query): Query<SignInQuery>,
) -> Result<Response, PageError> {
    let notice = if query.ended.is_some() {
        Some(
            "Your session ended (signed out elsewhere, idle too long, or the token was revoked or expired). Sign in again.",
        )
    } else if query.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    form_page(&state, StatusCode::OK, query.next.as_deref(), notice, None)
}

/// The form, with a fresh anti-forgery cookie and the token derived from it.
fn form_page(
    state: &AppState,
    status: StatusCode,
    next: Option<&str>,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let guard = ConsoleSessionCookie::generate()?;
    let body = layout::bare(
        "Sign in",
        form_markup(next, notice, error, &guard.csrf_token()),
    );
    let cookie = set_cookie(
        &state.base_url,
        SIGN_IN_COOKIE,
        guard.expose(),
        SIGN_IN_PATH,
        3600,
    );
    Ok((status, [(header::SET_COOKIE, cookie)], body).into_response())
}

fn form_markup(
    next: Option<&str>,
    notice: Option<&str>,
    error: Option<&str>,
    csrf: &str,
) -> Markup {
    html! {
        h1 { "Sign in to Gatehouse" }
        @if let Some(notice) = notice { div.flash role="status" { (notice) } }
        @if let Some(error) = error { div.error role="alert" { p { (error) } } }
        form.card method="post" action=(SIGN_IN_PATH) {
            input type="hidden" name=(CSRF_FIELD) value=(csrf);
            @if let Some(next) = next { input type="hidden" name="next" value=(safe_next(Some(next))); }
            label for="token" { "Personal access token" }
            input #token type="password" name="token" required autocomplete="off"
                autofocus spellcheck="false" aria-describedby="token-hint";
            p.hint #token-hint {
                "Paste a token of yours (it starts with " code { "gth_pat_" } "). The console can do what the token's scopes and your roles allow, no more. "
                "The token is checked once and not kept in the browser; you stay signed in while you use the console."
            }
            div.actions { button type="submit" { "Sign in" } }
        }
        p.hint { "No token yet? An administrator creates your first one with " code { "gatehouse token create" } "." }
    }
}

async fn sign_in(State(state): State<AppState>, request: Request) -> Result<Response, Response> {
    let (parts, body) = request.into_parts();
    let fields = read_fields(&parts.headers, body, &state).await?;
    let guard = cookie_value(&parts.headers, SIGN_IN_COOKIE)
        .map(|value| ConsoleSessionCookie::from_header_value(value).csrf_token());
    if !guard.is_some_and(|expected| tokens_match(fields.get(CSRF_FIELD), &expected)) {
        return Err(forged().into_response());
    }
    let next = fields.get("next");
    let Some(token) = fields.get("token") else {
        return form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            next,
            None,
            Some("Paste your personal access token."),
        )
        .map_err(IntoResponse::into_response);
    };
    match state.services.open_console_session(token).await {
        Ok((cookie, _principal)) => {
            let mut response = Redirect::to(safe_next(next)).into_response();
            let headers = response.headers_mut();
            for value in [
                session_cookie_header(&state, &cookie),
                set_cookie(&state.base_url, SIGN_IN_COOKIE, "", SIGN_IN_PATH, 0),
            ] {
                if let Ok(value) = value.parse() {
                    headers.append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(ServiceError::Unauthenticated(failure)) => {
            let message = format!("That token can't sign in: {failure}.");
            form_page(&state, StatusCode::UNAUTHORIZED, next, None, Some(&message))
                .map_err(IntoResponse::into_response)
        }
        Err(error) => Err(PageError::from(error).into_response()),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    // Checks the CSRF token: no other site can sign a person out either.
    _form: Submitted,
) -> Result<Response, PageError> {
    if let Some(value) = cookie_value(&headers, SESSION_COOKIE) {
        let cookie = ConsoleSessionCookie::from_header_value(value);
        state.services.close_console_session(&cookie).await?;
    }
    let mut response = Redirect::to("/console/sign-in?signed_out=1").into_response();
    if let Ok(value) = clear_session_cookie_header(&state).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
