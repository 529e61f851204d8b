//! The console's only assets: one stylesheet, htmx, and a few lines of our own script (copy
//! buttons), served like every embedded asset (`http/assets.rs`).

use axum::Router;

use crate::http::AppState;
use crate::http::assets::{self, Asset, CSS, JAVASCRIPT, versioned_path};

pub const STYLESHEET: &str = versioned_path!("/console/assets", "console", "css");
pub const SCRIPT: &str = versioned_path!("/console/assets", "console", "js");
/// htmx 2.0.11 (BSD Zero Clause License), from the npm package `htmx.org`.
pub const HTMX: &str = versioned_path!("/console/assets", "htmx", "js");

const ASSETS: [Asset; 3] = [
    (STYLESHEET, CSS, include_str!("assets/console.css")),
    (SCRIPT, JAVASCRIPT, include_str!("assets/console.js")),
    (HTMX, JAVASCRIPT, include_str!("assets/htmx-2.0.11.min.js")),
];

pub fn router() -> Router<AppState> {
    assets::router(&ASSETS)
}
