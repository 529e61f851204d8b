//! What the request log records about each request. Some paths carry a credential — the
//! webhook verification callback is `/v1/webhook_verifications/<one-time secret>` — so the span
//! records the method and the path with such segments replaced by `[redacted]`, and never the
//! query string (SCIM filters and searches hold people's names and emails). This holds at every
//! log level: the span is the only place the request line is logged.

use std::time::Duration;

use axum::http::{Request, StatusCode};
use tower_http::classify::ServerErrorsFailureClass;
use tracing::{Level, Span};

use crate::service::VERIFICATION_PATH;

/// What stands in for a redacted path segment.
pub const REDACTED: &str = "[redacted]";

/// The span `TraceLayer` opens for a request.
pub fn request_span<B>(request: &Request<B>) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
    )
}

/// What `TraceLayer` logs when a request fails, at the level `failure_level` gives it.
pub fn on_failure(class: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    let latency_ms = latency.as_millis();
    if failure_level(&class) == Level::ERROR {
        tracing::error!(classification = %class, latency_ms, "response failed");
    } else {
        tracing::debug!(classification = %class, latency_ms, "answered unavailable");
    }
}

/// A 503 is an answer the server means to give — it is applying migrations, or its database
/// does not answer (which the readiness check warns of itself) — and an orchestrator's probe
/// meets it at every start: not an error. Every other failure is.
pub fn failure_level(class: &ServerErrorsFailureClass) -> Level {
    match class {
        ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => Level::DEBUG,
        _ => Level::ERROR,
    }
}

/// `path` as it may be logged: the segment after a prefix that takes a secret is redacted.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix(VERIFICATION_PATH) {
        Some(rest) if rest.len() > 1 && rest.starts_with('/') => {
            format!("{VERIFICATION_PATH}/{REDACTED}").into()
        }
        _ => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_503_is_not_logged_as_an_error_and_other_failures_are() {
        let unavailable = ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(failure_level(&unavailable), Level::DEBUG);
        for status in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY] {
            let class = ServerErrorsFailureClass::StatusCode(status);
            assert_eq!(failure_level(&class), Level::ERROR, "{status}");
        }
        let broken = ServerErrorsFailureClass::Error("connection reset".to_owned());
        assert_eq!(failure_level(&broken), Level::ERROR);
    }

    #[test]
    fn the_verification_secret_is_redacted_and_other_paths_are_kept() {
        assert_eq!(
            loggable_path("/v1/webhook_verifications/ghv_abc123"),
            "/v1/webhook_verifications/[redacted]"
        );
        assert_eq!(
            loggable_path("/v1/webhook_verifications/ghv_abc/extra"),
            "/v1/webhook_verifications/[redacted]"
        );
        assert_eq!(
            loggable_path("/v1/webhook_verifications"),
            "/v1/webhook_verifications"
        );
        assert_eq!(loggable_path("/v1/webhooks/123"), "/v1/webhooks/123");
        assert_eq!(loggable_path("/scim/v2/Users"), "/scim/v2/Users");
    }
}
