//! Prometheus metrics: the process-wide recorder and the middleware that counts and times
//! every HTTP request. Routes are labelled by their template (`/v1/people/{id}`), never the raw
//! path, and methods outside the standard set are folded into one label, so the number of
//! series stays bounded whatever clients send.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const REQUESTS_TOTAL: &str = "gatehouse_http_requests_total";
pub const REQUEST_DURATION_SECONDS: &str = "gatehouse_http_request_duration_seconds";

/// Upper bounds in seconds: 1 ms to 10 s, denser where API requests usually land.
const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into buckets between scrapes; without it they pile
/// up in memory (the exporter leaves upkeep to us when installed without its HTTP listener).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The route label of requests no route matched (404s, probes for random paths).
const UNMATCHED_ROUTE: &str = "unmatched";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder on the first call; later calls return the same handle, so
/// tests may build many servers in one process.
pub fn install_recorder() -> PrometheusHandle {
    HANDLE.get_or_init(build_and_install).clone()
}

fn build_and_install() -> PrometheusHandle {
    let builder = match PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION_SECONDS.to_owned()),
            LATENCY_BUCKETS_SECONDS,
        )
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(crate::delivery::worker::ATTEMPT_DURATION_SECONDS.to_owned()),
                LATENCY_BUCKETS_SECONDS,
            )
        }) {
        Ok(builder) => builder,
        // Only an empty bucket list fails, and ours is not empty; fall back to summaries.
        Err(error) => {
            tracing::warn!(%error, "histogram buckets rejected; latencies will be summaries");
            PrometheusBuilder::new()
        }
    };
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if let Err(error) = ::metrics::set_global_recorder(recorder) {
        // Someone else's recorder is global; ours still renders, but stays empty.
        tracing::warn!(%error, "a metrics recorder was already installed; /metrics will not show HTTP metrics");
    }
    ::metrics::describe_counter!(
        REQUESTS_TOTAL,
        "HTTP requests answered, by method, route template and status"
    );
    ::metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        ::metrics::Unit::Seconds,
        "Time to produce the response head, by method, route template and status"
    );
    spawn_upkeep(handle.clone());
    handle
}

/// A plain thread rather than a task: the recorder outlives any one Tokio runtime (tests
/// start and drop many) and upkeep is a quick, blocking-free call.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start metrics upkeep; histograms update only when rendered");
    }
}

/// The exposition text for a scrape, with histograms brought up to date first.
pub fn render(handle: &PrometheusHandle) -> String {
    handle.run_upkeep();
    handle.render()
}

/// Counts and times each request by method, matched route template and status. Install with
/// `Router::layer(axum::middleware::from_fn(track_http_metrics))` so `MatchedPath` is set.
pub async fn track_http_metrics(request: Request, next: Next) -> Response {
    let started_at = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || UNMATCHED_ROUTE.to_owned(),
        |matched| matched.as_str().to_owned(),
    );
    let response = next.run(request).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    ::metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    ::metrics::histogram!(REQUEST_DURATION_SECONDS, &labels)
        .record(started_at.elapsed().as_secs_f64());
    response
}

/// Standard methods by name; anything else (clients may send any token) as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request as HttpRequest, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn router() -> Router {
        Router::new()
            .route("/metrics-test/things/{id}", get(|| async { "thing" }))
            .layer(axum::middleware::from_fn(track_http_metrics))
    }

    async fn send(router: Router, method: &str, path: &str) -> StatusCode {
        let request = HttpRequest::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request");
        router.oneshot(request).await.expect("response").status()
    }

    /// The rendered line of the request counter's series with these labels (in any order);
    /// fails the test, showing the whole rendering, when there is none.
    fn counted<'a>(rendered: &'a str, labels: &[&str]) -> &'a str {
        rendered
            .lines()
            .find(|line| {
                line.starts_with(&format!("{REQUESTS_TOTAL}{{"))
                    && labels.iter().all(|label| line.contains(label))
            })
            .unwrap_or_else(|| panic!("no {REQUESTS_TOTAL} series with {labels:?}:\n{rendered}"))
    }

    #[tokio::test]
    async fn counts_requests_by_route_template_not_raw_path() {
        let handle = install_recorder();
        assert_eq!(
            send(router(), "GET", "/metrics-test/things/41").await,
            StatusCode::OK
        );
        assert_eq!(
            send(router(), "GET", "/metrics-test/things/42").await,
            StatusCode::OK
        );
        let rendered = render(&handle);
        let line = counted(
            &rendered,
            &[
                "method=\"GET\"",
                "route=\"/metrics-test/things/{id}\"",
                "status=\"200\"",
            ],
        );
        assert!(line.ends_with(" 2"), "{line}");
        assert!(
            !rendered.contains("/metrics-test/things/41"),
            "raw paths never become labels"
        );
        assert!(
            rendered.contains(&format!("{REQUEST_DURATION_SECONDS}_bucket{{"))
                && rendered.contains("le=\"0.005\""),
            "latency histogram with buckets:\n{rendered}"
        );
    }

    #[tokio::test]
    async fn unmatched_requests_share_one_route_label() {
        let handle = install_recorder();
        assert_eq!(
            send(router(), "GET", "/metrics-test/nowhere/7").await,
            StatusCode::NOT_FOUND
        );
        let rendered = render(&handle);
        counted(&rendered, &["route=\"unmatched\"", "status=\"404\""]);
        assert!(!rendered.contains("/metrics-test/nowhere"));
    }

    #[tokio::test]
    async fn unusual_methods_are_folded_into_other() {
        let handle = install_recorder();
        send(router(), "BREW", "/metrics-test/things/1").await;
        let rendered = render(&handle);
        counted(
            &rendered,
            &["method=\"OTHER\"", "route=\"/metrics-test/things/{id}\""],
        );
        assert!(!rendered.contains("BREW"));
    }

    #[test]
    fn install_returns_the_same_recorder_every_time() {
        let first = install_recorder();
        ::metrics::counter!("gatehouse_metrics_test_same_handle").increment(1);
        assert!(
            install_recorder()
                .render()
                .contains("gatehouse_metrics_test_same_handle")
        );
        assert!(
            first
                .render()
                .contains("gatehouse_metrics_test_same_handle")
        );
    }
}
