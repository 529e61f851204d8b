//! `GET /v1/docs`: the REST API's reference, a page on which Redoc (vendored, compiled in:
//! `api_docs/redoc/`, refreshed by `scripts/vendor-api-docs`) renders `/v1/openapi.json` in the
//! browser. Public, like the document. The page loads only its own assets from here, through
//! the same mechanism as the console's (`http/assets.rs`), and nothing from any other host.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;
use super::assets::{self, Asset, JAVASCRIPT, versioned_path};

pub const PAGE: &str = "/v1/docs";
const DOCUMENT: &str = "/v1/openapi.json";

/// Redoc 2.5.4 (MIT), from the npm package `redoc`: `api_docs/redoc/README.md`.
const REDOC: &str = versioned_path!("/v1/docs/assets", "redoc", "js");
/// The few lines that start Redoc on the page.
const SCRIPT: &str = versioned_path!("/v1/docs/assets", "api-docs", "js");

const ASSETS: [Asset; 2] = [
    (
        REDOC,
        JAVASCRIPT,
        include_str!("api_docs/redoc/redoc.standalone.js"),
    ),
    (SCRIPT, JAVASCRIPT, include_str!("api_docs/api-docs.js")),
];

/// The console's policy (`console/mod.rs`), with the two relaxations Redoc cannot do without:
/// `style-src 'unsafe-inline'`, as its styles are made at run time (styled-components writes
/// them into `<style>` elements), and `worker-src blob:`, as its search index runs in a Web
/// Worker it starts from a `blob:` URL of code inside the bundle. Scripts stay `'self'` only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     worker-src blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page and its assets. `nosniff` and `no-store` (the page; the assets are cached) come
/// from the root router, as for every answer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .merge(assets::router(&ASSETS))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

async fn page() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Gatehouse REST API" }
                // No favicon request (the API would answer it with a JSON 404).
                link rel="icon" href="data:,";
            }
            body {
                noscript {
                    p {
                        "This reference is rendered by JavaScript. The OpenAPI document it shows is "
                        a href=(DOCUMENT) { (DOCUMENT) } "."
                    }
                }
                div #redoc data-spec-url=(DOCUMENT) {}
                script src=(REDOC) {}
                script src=(SCRIPT) {}
            }
        }
    }
}
