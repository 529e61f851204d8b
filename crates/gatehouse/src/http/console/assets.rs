//! The console's only assets, compiled into the binary: one stylesheet, htmx, and a few lines
//! of our own script (copy buttons). No CDN, no build step. Paths carry the crate version so a
//! new release is never served a stale copy.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::http::AppState;

macro_rules! asset_path {
    ($name:literal, $extension:literal) => {
        concat!(
            "/console/assets/",
            $name,
            "-",
            env!("CARGO_PKG_VERSION"),
            ".",
            $extension
        )
    };
}

pub const STYLESHEET: &str = asset_path!("console", "css");
pub const SCRIPT: &str = asset_path!("console", "js");
/// htmx 2.0.11 (BSD Zero Clause License), from the npm package `htmx.org`.
pub const HTMX: &str = asset_path!("htmx", "js");

const CACHE: &str = "public, max-age=86400";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            STYLESHEET,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    include_str!("assets/console.css"),
                )
                    .into_response()
            }),
        )
        .route(
            SCRIPT,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    include_str!("assets/console.js"),
                )
                    .into_response()
            }),
        )
        .route(
            HTMX,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    include_str!("assets/htmx-2.0.11.min.js"),
                )
                    .into_response()
            }),
        )
}
