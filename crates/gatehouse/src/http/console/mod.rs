//! The web console (`/console`): server-rendered pages (maud) for the people of an account —
//! their personal access tokens, the provisioned SCIM records, webhooks, policies, deliveries
//! and exception notices. It is a thin skin over the same service functions as the REST API, so
//! a session can do exactly what the token it was opened with can do there, no more.
//!
//! Every page works without JavaScript; htmx (embedded, like every asset) only narrows lists in
//! place. Sessions: `session.rs`; forms and CSRF: `form.rs`; the frame of every page:
//! `layout.rs`.

mod account;
mod assets;
mod charts;
mod deliveries;
mod editable;
mod error;
mod events;
mod form;
mod layout;
mod notifications;
mod overview;
mod people;
mod policies;
mod scim;
mod scim_token;
mod session;
mod sign_in;
mod tokens;
mod webhooks;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::get;

use super::AppState;
use error::PageError;

pub use session::Session;

/// The console's routes, all below `/console`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .merge(sign_in::router())
        .merge(tokens::router())
        .merge(scim::router())
        .merge(scim_token::router())
        .merge(account::router())
        .merge(people::router())
        .merge(overview::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(policies::router())
        .merge(deliveries::router())
        .merge(notifications::router())
        .merge(assets::router())
        .route("/console/{*rest}", get(not_found))
        .layer(axum::middleware::from_fn(security_headers))
}

/// The start page: the overview for administrators who may read it, else the person's own
/// tokens, the one page every signed-in person may use.
async fn home(session: Option<Session>) -> Redirect {
    match session {
        Some(session) if layout::opens(&session, layout::Section::Overview) => {
            Redirect::to(overview::PATH)
        }
        Some(_) => Redirect::to("/console/tokens"),
        None => Redirect::to("/console/sign-in"),
    }
}

/// An unknown console path: our HTML 404, not the REST API's JSON one.
async fn not_found() -> PageError {
    PageError::not_found("Page")
}

/// What every console response carries: a strict content security policy (only our own
/// scripts and styles; no framing), and no caching of pages, which may show a secret once.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
