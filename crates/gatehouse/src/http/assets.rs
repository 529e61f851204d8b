//! Static files compiled into the binary — the console's stylesheet and scripts, the API
//! reference's renderer — served by one mechanism: no CDN, no build step, nothing read from disk.
//! Paths carry the crate version (`versioned_path!`), so a new release is never served a stale
//! copy and browsers may keep each one for a day.

use axum::Router;
use axum::http::header;
use axum::routing::get;

use crate::http::AppState;

/// `versioned_path!("/console/assets", "console", "css")` is
/// `/console/assets/console-<crate version>.css`.
macro_rules! versioned_path {
    ($folder:literal, $name:literal, $extension:literal) => {
        concat!(
            $folder,
            "/",
            $name,
            "-",
            env!("CARGO_PKG_VERSION"),
            ".",
            $extension
        )
    };
}
pub(crate) use versioned_path;

pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";

/// The path is versioned, so a day is safe; the root router's `no-store` is for everything else.
const CACHE: &str = "public, max-age=86400";

/// One asset: its path, content type and content.
pub type Asset = (&'static str, &'static str, &'static str);

/// A route per asset, each answering its content with its type and [`CACHE`].
pub fn router(assets: &[Asset]) -> Router<AppState> {
    assets
        .iter()
        .fold(Router::new(), |router, &(path, content_type, content)| {
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, CACHE),
            ];
            router.route(path, get(move || async move { (headers, content) }))
        })
}
