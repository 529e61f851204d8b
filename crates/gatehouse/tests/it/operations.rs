//! Knowing what runs: `GET /v1/status` on both backends, `/readyz` while migrations run, and the
//! version and schema `serve` logs at start.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::receiver::Reply;
use crate::common::{Backend, RequestExt, TestServer, delivering_server, eventually};
use crate::webhooks::{ADMIN_SCOPES, publish, verified_webhook};

/// The last migration's number, read from the migrations folder (what `serve` should report).
pub(crate) fn latest_migration(backend: &str) -> i64 {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
    std::fs::read_dir(format!("{folder}{backend}"))
        .expect("migrations")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .expect("a migration")
}

async fn status_shows_what_runs_and_the_accounts_queue(backend: Backend) {
    let mut scopes = ADMIN_SCOPES.to_vec();
    scopes.push("account:read");
    let (server, token, receiver) = delivering_server(backend, &scopes).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    receiver.answer_event("app.fails", Reply::Status(503));
    publish(&server, &token, "app.fails", "1").await;
    eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.fails",
        |list| list[0]["attempt"] == 1,
    )
    .await;

    let status = server.get("/v1/status", &token).json_answer().await;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    let backend_name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(status["schema_version"], latest_migration(backend_name));
    assert!(
        status["database_bytes"]
            .as_u64()
            .is_some_and(|bytes| bytes > 10_000),
        "{status}"
    );
    assert_eq!(
        status["queue"]["pending"], 1,
        "the retrying delivery: {status}"
    );
    assert_eq!(status["queue"]["due"], 0, "its retry is later: {status}");
    assert_eq!(status["delivery_retention_days"], 90);

    // Another account's queue is not this one's.
    let globex = server.account("globex").await;
    let other_admin = server
        .person(&globex, "admin@globex.example", &["account_administrator"])
        .await;
    let other = server.token(&globex, &other_admin, &["account:read"]).await;
    let theirs = server.get("/v1/status", &other).json_answer().await;
    assert_eq!(theirs["queue"]["pending"], 0);

    // Administrators only, and only with the scope.
    let acme = server.find_account("acme").await;
    let specialist = server
        .person(&acme, "sam@example.org", &["specialist"])
        .await;
    let sam = server.token(&acme, &specialist, &["account:read"]).await;
    server
        .get("/v1/status", &sam)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let admin = server
        .person(&acme, "ann@example.org", &["account_administrator"])
        .await;
    let narrow = server.token(&acme, &admin, &["webhooks:read"]).await;
    server
        .get("/v1/status", &narrow)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
}

/// During a rolling upgrade a node of the previous release schedules deliveries in the wide
/// row (migration 0027). A serving node's upkeep moves such a delivery into the queue, and its
/// worker sends it: nothing an old node scheduled stays behind when the last one stops.
async fn a_delivery_scheduled_the_previous_releases_way_is_sent(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    publish(&server, &token, "app.old.style", "1").await;
    let recorded = |list: &serde_json::Value| list[0]["status"] == "succeeded";
    let path = "/v1/webhook_deliveries?event=app.old.style";
    eventually(&server, &token, path, recorded).await;
    // As an old node leaves it: pending, due, unleased, not in the queue.
    server
        .database()
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempt = 0, \
             next_attempt_at = created_at, locked_until = NULL WHERE event = 'app.old.style'",
        )
        .await;
    receiver
        .wait_for(2, |message| message.event() == "app.old.style")
        .await;
    eventually(&server, &token, path, recorded).await;
}

both_backends!(
    a_delivery_scheduled_the_previous_releases_way_is_sent,
    status_shows_what_runs_and_the_accounts_queue,
    a_node_starts_on_a_later_schema_only_if_that_schema_allows_it,
);

/// Everything logged on this thread while it lives (a current-thread runtime runs the server's
/// tasks here too), as text.
struct CapturedLogs {
    text: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    fn start() -> Self {
        let text = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = text.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        Self {
            text,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().expect("logs")).into_owned()
    }
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// While `serve` applies migrations it is alive but not ready, and answers nothing else; those
/// 503s are what it means to say (an orchestrator's probe meets them at every start), so the
/// request log does not report them as errors.
#[tokio::test]
async fn nothing_but_health_answers_while_migrations_run() {
    use gatehouse::http::{AppState, router};
    let logs = CapturedLogs::start();
    let server = TestServer::start(Backend::Sqlite).await;
    let state = AppState::new(server.services.clone(), "http://127.0.0.1", 600).migrating();
    let (listener, address) = crate::common::listen_locally().await;
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{address}{path}")).send();

    assert_eq!(get("/healthz").await.expect("GET").status(), StatusCode::OK);
    let readyz = get("/readyz").await.expect("GET");
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        readyz.json::<serde_json::Value>().await.expect("JSON"),
        json!({ "status": "applying migrations" })
    );
    for path in ["/v1/me", "/scim/v2/Users", "/console", "/v1/openapi.json"] {
        let answer = get(path).await.expect("GET");
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(answer.headers()["retry-after"], "5", "{path}");
    }
    let logged = logs.text();
    assert!(logged.contains("answered unavailable"), "{logged}");
    assert!(!logged.contains("ERROR"), "{logged}");
    state.set_ready();
    assert_eq!(get("/readyz").await.expect("GET").status(), StatusCode::OK);
    assert_eq!(
        get("/v1/me").await.expect("GET").status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A rolling upgrade: once a later release migrated the database, a node of this release may
/// still restart on it as long as that schema says it serves this one (it only grew); when a
/// release contracts the schema, this one refuses to start and says what it needs.
async fn a_node_starts_on_a_later_schema_only_if_that_schema_allows_it(backend: Backend) {
    let (store, database) = crate::common::store(backend).await;
    let later_release = match backend {
        Backend::Sqlite => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'a later release', TRUE, X'00', 1)"
        }
        Backend::Postgres => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'a later release', TRUE, '\\x00'::bytea, 1)"
        }
    };
    database.execute(later_release).await;
    store
        .migrate()
        .await
        .expect("starts: the later schema only grew");
    assert_eq!(store.schema_version().await.expect("version"), 9999);
    store.ping().await.expect("serves");

    database
        .execute("UPDATE schema_compatibility SET oldest_code_schema = 9999")
        .await;
    let refused = store.migrate().await.expect_err("a contracted schema");
    let message = refused.to_string();
    assert!(
        message.contains("schema 9999") && message.contains("run the newer gatehouse"),
        "{message}"
    );
}
