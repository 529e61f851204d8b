//! The console's only assets, compiled into the binary: one stylesheet, htmx, and a few lines
//! of our own script (copy buttons). No CDN, no build step. Paths carry the crate version so a
//! new release is never served a stale copy.

use axum::Router;
use axum::http::header;
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

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every asset: its path, content type and content.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        STYLESHEET,
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (SCRIPT, JAVASCRIPT, include_str!("assets/console.js")),
    (HTMX, JAVASCRIPT, include_str!("assets/htmx-2.0.11.min.js")),
];

pub fn router() -> Router<AppState> {
    ASSETS
        .into_iter()
        .fold(Router::new(), |router, (path, content_type, content)| {
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, CACHE),
            ];
            router.route(path, get(move || async move { (headers, content) }))
        })
}
