//! HTTP: the routers and what they share. Handlers authenticate (middleware), parse, call one
//! service function and map the result; the rules live in `service`.

mod api;
mod api_docs;
mod assets;
mod authenticate;
mod console;
mod delivery_filter;
pub mod error;
mod health;
pub mod metrics;
pub mod pagination;
pub mod rate_limit;
pub mod request_log;
mod scim;
mod service_error;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::service::Services;
use rate_limit::RateLimiter;

pub use authenticate::ACCOUNT_HEADER;

/// What every handler can reach, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// The public URL, without a trailing slash: the prefix of every link we hand out.
    pub base_url: Arc<str>,
    pub rate_limiter: Arc<RateLimiter>,
    pub metrics: PrometheusHandle,
    /// False while `serve` applies migrations: only `/healthz` and `/readyz` answer (the
    /// latter 503) until they are done.
    pub ready: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(services: Services, base_url: &str, rate_limit_per_minute: u32) -> Self {
        let rate_limiter = Arc::new(RateLimiter::for_services(
            rate_limit_per_minute,
            Duration::from_secs(60),
            &services,
        ));
        Self {
            services,
            base_url: Arc::from(base_url.trim_end_matches('/')),
            rate_limiter,
            metrics: metrics::install_recorder(),
            ready: Arc::new(std::sync::atomic::AtomicBool::new(true)),
        }
    }

    /// The state of a server that listens before its migrations are applied: not ready until
    /// [`Self::set_ready`].
    pub fn migrating(self) -> Self {
        self.ready
            .store(false, std::sync::atomic::Ordering::Release);
        self
    }

    pub fn set_ready(&self) {
        self.ready.store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The whole service: health and metrics, the OpenAPI document, its reference page and REST
/// API v1, SCIM and the console.
pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api::router(state.clone());
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(health::router())
        .merge(api_router)
        .merge(scim::router(state.clone()))
        .merge(console::router())
        .merge(api_docs::router())
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            health::wait_for_migrations,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track_http_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_log::request_span)
                .on_failure(request_log::on_failure),
        )
        .layer(CatchPanicLayer::new())
        // Every answer, a panic's 500 included: no MIME sniffing (a JSON error echoing input
        // must never become HTML), and not stored by caches unless the handler says otherwise
        // — answers carry token secrets, keys and signing secrets, and bearer-authenticated
        // data in general.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The OpenAPI document the router serves, for tests and tooling.
pub fn openapi_document(state: AppState) -> utoipa::openapi::OpenApi {
    api::router(state).1
}
