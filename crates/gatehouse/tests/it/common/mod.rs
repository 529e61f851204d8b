//! The test harness: real stores (a temporary SQLite file, or a fresh schema in the PostgreSQL
//! at `GATEHOUSE_TEST_POSTGRES_URL`) and a `TestServer` running the real router on a free port.
//! The same test body runs on both backends through `both_backends!`; without a reachable
//! PostgreSQL its PostgreSQL half is skipped with the reason printed, except in CI
//! (`CI=true`), where that fails the run (`postgres_reachable`). Also the helpers more than
//! one area uses: reading answers (`json_body`, `header`, `eventually`) and a server with a
//! provisioning administrator's token (`provisioning`).

pub mod postgres_schema;
pub mod receiver;
pub mod seed;
pub mod smtp;

use std::io::Write;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use gatehouse::delivery::sender::{SenderSettings, TargetPolicy};
use gatehouse::delivery::worker::{self, Jitter, WorkerSettings};
use gatehouse::domain::{Account, AccountId, Person};
use gatehouse::http::{AppState, router};
use gatehouse::service::{ManualClock, Services};
use gatehouse::store::{DatabaseStore, PostgresStore, SqliteStore, Store};
pub use postgres_schema::postgres_url;
use postgres_schema::{PostgresSchema, TemporarySchema};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Keeps a test's database alive; drops the PostgreSQL schema or the SQLite folder at the end.
pub struct DatabaseGuard {
    sqlite_folder: Option<tempfile::TempDir>,
    postgres_schema: Option<TemporarySchema>,
}

impl DatabaseGuard {
    /// The URL of the test's SQLite file (`None` on PostgreSQL).
    pub fn sqlite_url(&self) -> Option<String> {
        let folder = self.sqlite_folder.as_ref()?;
        Some(format!("sqlite://{}/gatehouse.db", folder.path().display()))
    }

    /// Runs raw SQL on the test's database beside the store, for rows the service would no
    /// longer write (data from before a change, to migrate).
    pub async fn execute(&self, sql: &str) {
        if let Some(folder) = &self.sqlite_folder {
            let url = format!("sqlite://{}/gatehouse.db", folder.path().display());
            execute_on_sqlite(&url, sql).await;
        } else if let Some(schema) = &self.postgres_schema {
            let pool = sqlx::PgPool::connect_with(schema.connect_options())
                .await
                .expect("open PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"));
            pool.close().await;
        }
    }
}

impl DatabaseGuard {
    /// The first column of the first row `sql` returns, as a number: a count of rows the store
    /// keeps where no API shows them.
    pub async fn count(&self, sql: &str) -> i64 {
        if let Some(url) = self.sqlite_url() {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("open SQLite");
            let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"));
            pool.close().await;
            count
        } else {
            let schema = self.postgres_schema.as_ref().expect("one of the two");
            let pool = sqlx::PgPool::connect_with(schema.connect_options())
                .await
                .expect("open PostgreSQL");
            let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"));
            pool.close().await;
            count
        }
    }
}

/// Runs raw SQL on the SQLite database at `url`, beside whatever else has it open.
pub async fn execute_on_sqlite(url: &str, sql: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("open SQLite");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    pool.close().await;
}

/// A listener on a free port of 127.0.0.1, and that address (`127.0.0.1:port`), for the
/// servers a test starts.
pub async fn listen_locally() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    (listener, address)
}

/// A store holding a copy of the upgrade fixture in `folder` (`gatehouse.db`, `postgres.sql`:
/// a release's database, see `scripts/make-upgrade-fixture`), migrated to the current schema.
pub async fn fixture_store(
    backend: Backend,
    folder: &std::path::Path,
) -> (Arc<dyn Store>, DatabaseGuard) {
    match backend {
        Backend::Sqlite => {
            let copy = tempfile::tempdir().expect("temporary folder");
            std::fs::copy(
                folder.join("gatehouse.db"),
                copy.path().join("gatehouse.db"),
            )
            .expect("copy the fixture");
            let url = format!("sqlite://{}/gatehouse.db", copy.path().display());
            let store = SqliteStore::connect(&url).await.expect("open SQLite");
            store.migrate().await.expect("migrate the fixture");
            let guard = DatabaseGuard {
                sqlite_folder: Some(copy),
                postgres_schema: None,
            };
            (Arc::new(store), guard)
        }
        Backend::Postgres => {
            let schema = TemporarySchema(PostgresSchema::create(&postgres_url(), "fixture").await);
            let dump = std::fs::read_to_string(folder.join("postgres.sql")).expect("dump");
            let dump = dump.replace("public.", &format!("{}.", schema.0.name));
            let pool = sqlx::PgPool::connect_with(schema.connect_options())
                .await
                .expect("open PostgreSQL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
                .execute(&pool)
                .await
                .expect("load the fixture");
            pool.close().await;
            let store = PostgresStore::connect_with(schema.connect_options())
                .await
                .expect("open PostgreSQL");
            store.migrate().await.expect("migrate the fixture");
            let guard = DatabaseGuard {
                sqlite_folder: None,
                postgres_schema: Some(schema),
            };
            (Arc::new(store), guard)
        }
    }
}

/// A migrated, empty store of the given backend, private to the calling test.
pub async fn store(backend: Backend) -> (Arc<dyn Store>, DatabaseGuard) {
    match backend {
        Backend::Sqlite => {
            let folder = tempfile::tempdir().expect("temporary folder");
            let url = format!("sqlite://{}/gatehouse.db", folder.path().display());
            let store = SqliteStore::connect(&url).await.expect("open SQLite");
            store.migrate().await.expect("migrate SQLite");
            (
                Arc::new(store),
                DatabaseGuard {
                    sqlite_folder: Some(folder),
                    postgres_schema: None,
                },
            )
        }
        Backend::Postgres => {
            let schema = TemporarySchema(PostgresSchema::create(&postgres_url(), "test").await);
            let store = PostgresStore::connect_with(schema.connect_options())
                .await
                .expect("open PostgreSQL");
            store.migrate().await.expect("migrate PostgreSQL");
            (
                Arc::new(store),
                DatabaseGuard {
                    sqlite_folder: None,
                    postgres_schema: Some(schema),
                },
            )
        }
    }
}

/// A person as SCIM provisioning makes one (no roles, made at `start_time()`), to write to a
/// store directly.
pub fn scim_person(account: &AccountId, name: &str, email: &str) -> Person {
    Person {
        name: name.to_owned(),
        primary_email: Some(email.to_owned()),
        ..Person::provisioned(account.clone(), start_time())
    }
}

/// The names of the events the account's outbox holds, oldest first (the first 100).
pub async fn event_names(store: &dyn Store, account: &AccountId) -> Vec<String> {
    store
        .events_after(account, 0, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.name)
        .collect()
}

/// Whether the PostgreSQL tests can run: the server at `postgres_url()` accepts a connection.
/// Asked once per process (the answer is kept). When it doesn't, this prints why the calling
/// test is skipped and the test returns early on `false`; in CI (`CI=true`) a missing PostgreSQL is
/// a failure instead, so a run there never passes without the PostgreSQL half.
pub async fn postgres_reachable() -> bool {
    static CONNECTION: tokio::sync::OnceCell<Result<(), String>> =
        tokio::sync::OnceCell::const_new();
    let url = postgres_url();
    let connection = CONNECTION
        .get_or_init(|| async {
            let attempt = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                <sqlx::PgConnection as sqlx::Connection>::connect(&url),
            )
            .await;
            match attempt {
                Ok(Ok(connection)) => {
                    let _ = sqlx::Connection::close(connection).await;
                    Ok(())
                }
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("no answer within 10 seconds".to_owned()),
            }
        })
        .await;
    match connection {
        Ok(()) => true,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL at {url} is required in CI: {error}")
        }
        Err(error) => {
            // Straight to the process's stderr, not through `eprintln!`, which the test
            // harness captures and shows only for failures: a skip should be seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: PostgreSQL not reachable at {url} ({error}); run scripts/test, which starts one"
            );
            false
        }
    }
}

/// Runs each named `async fn name(backend: Backend)` once per backend, as `sqlite::name` and
/// `postgres::name`; the PostgreSQL one only when `postgres_reachable()`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if crate::common::postgres_reachable().await {
                        super::$name(crate::common::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0)
        .single()
        .expect("valid time")
}

/// The real router on 127.0.0.1 with a manual clock, over a private store.
pub struct TestServer {
    pub base_url: String,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    /// Dropping it stops the delivery worker.
    _stop_delivery: Option<tokio::sync::watch::Sender<bool>>,
    database: DatabaseGuard,
}

/// Rate limiting is off unless a test turns it on; so is the delivery worker.
#[derive(Default)]
pub struct TestServerOptions {
    pub rate_limit_per_minute: u32,
    /// Run a delivery worker (with `worker`'s settings, or test defaults: poll every 20 ms,
    /// no jitter) that sends to receivers on 127.0.0.1.
    pub deliver: bool,
    pub worker: Option<WorkerSettings>,
    /// The attempt timeout; 2 s unless given.
    pub webhook_timeout: Option<std::time::Duration>,
    /// Apply the SSRF rules as production does (tests otherwise may reach 127.0.0.1).
    pub refuse_private_targets: bool,
    /// Mail notices through this SMTP server (upkeep then runs every 50 ms).
    pub smtp_url: Option<String>,
}

/// Worker settings for tests: quick polling and a fixed (zero) jitter, so the retry schedule
/// is exact.
pub fn test_worker_settings() -> WorkerSettings {
    WorkerSettings {
        poll_interval: std::time::Duration::from_millis(20),
        jitter: Jitter::Fixed(0.0),
        ..WorkerSettings::default()
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, TestServerOptions::default()).await
    }

    pub async fn start_with(backend: Backend, options: TestServerOptions) -> Self {
        let (store, database) = store(backend).await;
        Self::start_on(store, database, None, options).await
    }

    /// A server on a store of the caller's (made with `server_key` when it is given).
    pub async fn start_on(
        store: Arc<dyn Store>,
        database: DatabaseGuard,
        server_key: Option<gatehouse::delivery::signing::ServerKey>,
        options: TestServerOptions,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(start_time()));
        let (listener, address) = listen_locally().await;
        let base_url = format!("http://{address}");
        let mut services = Services::new(store, clock.clone());
        if let Some(key) = server_key {
            services = services.with_server_key(key);
        }
        let services = services
            .with_base_url(&base_url)
            .with_sender(SenderSettings {
                timeout: options
                    .webhook_timeout
                    .unwrap_or(std::time::Duration::from_secs(2)),
                targets: TargetPolicy {
                    allow_private: !options.refuse_private_targets,
                    allowed_networks: Vec::new(),
                },
                ..SenderSettings::default()
            });
        let state = AppState::new(services.clone(), &base_url, options.rate_limit_per_minute);
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        let stop_delivery = options.deliver.then(|| {
            let (stop, shutdown) = tokio::sync::watch::channel(false);
            let settings = options.worker.unwrap_or_else(test_worker_settings);
            tokio::spawn(worker::run(services.clone(), settings, shutdown.clone()));
            let mailer = options.smtp_url.as_deref().map(|url| {
                Arc::new(
                    gatehouse::delivery::mail::Mailer::from_url(url, "gatehouse@example.org")
                        .expect("SMTP URL"),
                )
            });
            tokio::spawn(worker::run_upkeep_every(
                services.clone(),
                mailer,
                std::time::Duration::from_millis(50),
                shutdown,
            ));
            stop
        });
        Self {
            base_url,
            services,
            clock,
            client: reqwest::Client::new(),
            _stop_delivery: stop_delivery,
            database,
        }
    }

    /// The test's database, for raw SQL beside the service.
    pub fn database(&self) -> &DatabaseGuard {
        &self.database
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Another process on this server's database (another `gatehouse serve` node, or a server
    /// the admin CLI writes under), with its own caches kept for `ttl`.
    pub fn another_node(&self, ttl: std::time::Duration) -> Services {
        Services::with_credential_cache_ttl(self.services.store.clone(), self.clock.clone(), ttl)
    }

    pub async fn account(&self, id: &str) -> Account {
        seed::account(&self.services, id, &format!("{id} Inc.")).await
    }

    /// The account `id`, made before (by `account` or `provisioning`).
    pub async fn find_account(&self, id: &str) -> Account {
        let id = AccountId::parse(id).expect("slug");
        self.services.account(&id).await.expect("account")
    }

    /// A person named after the local part of `email`.
    pub async fn person(&self, account: &Account, email: &str, roles: &[&str]) -> Person {
        let name = email.split('@').next().unwrap_or(email);
        seed::person(&self.services, account, name, email, roles).await
    }

    /// The account `acme`, a person there (named after the local part of `email`) holding
    /// `roles`, and a token of theirs with `scopes`, valid for 30 days: the arrange step of
    /// the tests that act as one person.
    pub async fn acme_member(
        &self,
        email: &str,
        roles: &[&str],
        scopes: &[&str],
    ) -> (Account, Person, String) {
        let acme = self.account("acme").await;
        let person = self.person(&acme, email, roles).await;
        let token = self.token(&acme, &person, scopes).await;
        (acme, person, token)
    }

    /// Makes the account `globex` and its administrator `admin@globex.example`; returns a token
    /// of theirs with `scopes`, to act from another account than `acme`.
    pub async fn globex_admin_token(&self, scopes: &[&str]) -> String {
        let globex = self.account("globex").await;
        let admin = self
            .person(&globex, "admin@globex.example", &["account_administrator"])
            .await;
        self.token(&globex, &admin, scopes).await
    }

    /// A token for `person` with `scopes`, valid for 30 days; returns the secret.
    pub async fn token(&self, account: &Account, person: &Person, scopes: &[&str]) -> String {
        self.token_for_days(account, person, scopes, 30).await
    }

    /// Another token, with `scopes` and valid for 30 days, of the person with `email` in
    /// `account`, both made before; returns the secret.
    pub async fn token_of(&self, account: &Account, email: &str, scopes: &[&str]) -> String {
        let person = self.services.person_by_email(&account.id, email).await;
        let person = person.unwrap_or_else(|error| panic!("{email}: {error:?}"));
        self.token(account, &person, scopes).await
    }

    /// A token for `person` with every scope there is (so only roles stop it), valid for 30
    /// days; returns the secret.
    pub async fn token_with_every_scope(&self, account: &Account, person: &Person) -> String {
        self.token_for_days(account, person, &seed::every_scope(), 30)
            .await
    }

    /// A token for `person` with `scopes`, valid for `days` (7, 30, 60, 90, 180 or 365) from
    /// the test clock's now; returns the secret.
    pub async fn token_for_days(
        &self,
        account: &Account,
        person: &Person,
        scopes: &[impl AsRef<str>],
        days: u32,
    ) -> String {
        let name = format!("test, {days} days");
        seed::token(&self.services, account, person, &name, scopes, days).await
    }

    /// The names of the events the account's outbox holds, oldest first, that start with
    /// `prefix`.
    pub async fn event_names(&self, account: &str, prefix: &str) -> Vec<String> {
        let account = AccountId::parse(account).expect("slug");
        self.services
            .store
            .events_after(&account, 0, 1000)
            .await
            .expect("events")
            .into_iter()
            .map(|event| event.name)
            .filter(|name| name.starts_with(prefix))
            .collect()
    }

    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(token)
    }

    pub fn put(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path)).bearer_auth(token)
    }

    pub fn patch(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.patch(self.url(path)).bearer_auth(token)
    }

    pub fn delete(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(token)
    }
}

/// Sending a test's request, where an answer that never comes fails the test.
pub trait RequestExt {
    /// Sends the request and asserts the status of its answer, which it returns. A wrong
    /// status names the request (method and URL), as the assertion points here.
    fn expect_status(
        self,
        status: reqwest::StatusCode,
    ) -> impl std::future::Future<Output = reqwest::Response>;

    /// `expect_status` for one case of a table: a wrong status names `case` besides the request.
    fn expect_status_for(
        self,
        status: reqwest::StatusCode,
        case: impl std::fmt::Display,
    ) -> impl std::future::Future<Output = reqwest::Response>;

    /// Sends the request and returns the JSON body of its answer, whatever its status.
    fn json_answer(self) -> impl std::future::Future<Output = Value>;
}

impl RequestExt for reqwest::RequestBuilder {
    async fn expect_status(self, status: reqwest::StatusCode) -> reqwest::Response {
        send_expecting(self, status, String::new()).await
    }

    async fn expect_status_for(
        self,
        status: reqwest::StatusCode,
        case: impl std::fmt::Display,
    ) -> reqwest::Response {
        send_expecting(self, status, format!("{case}: ")).await
    }

    async fn json_answer(self) -> Value {
        json_body(self.send().await.expect("request")).await
    }
}

/// Sends `request` and asserts the status of its answer; a wrong one is reported after `prefix`
/// with the method and URL.
async fn send_expecting(
    request: reqwest::RequestBuilder,
    status: reqwest::StatusCode,
    prefix: String,
) -> reqwest::Response {
    let (client, request) = request.build_split();
    let request = request.expect("request");
    let sent = format!("{prefix}{} {}", request.method(), request.url());
    let response = client.execute(request).await.expect("request");
    assert_eq!(response.status(), status, "{sent}");
    response
}

/// The JSON body of an answer.
pub async fn json_body(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

/// The text at `pointer` (a JSON pointer such as `/meta/resourceType`) in each element of the
/// JSON array `array`.
pub fn texts(array: &Value, pointer: &str) -> Vec<String> {
    array
        .as_array()
        .expect("array")
        .iter()
        .map(|element| {
            let text = element.pointer(pointer).and_then(Value::as_str);
            text.unwrap_or_else(|| panic!("{pointer} is no text in {element}"))
                .to_owned()
        })
        .collect()
}

/// A header of an answer as text; empty when the answer has none.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

/// Checks `holds` every 20 ms until it does, failing with `what` once `within` has passed since
/// the call: for a change another node or a cache is to see in a bounded time.
pub async fn wait_until<F, Check>(within: std::time::Duration, what: &str, mut holds: F)
where
    F: FnMut() -> Check,
    Check: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !holds().await {
        assert!(started.elapsed() < within, "{what} (after {within:?})");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// GETs `path` every 20 ms until `done` holds for its JSON body (which it returns), failing
/// after 10 seconds.
pub async fn eventually(
    server: &TestServer,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let body = server.get(path, token).json_answer().await;
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never reached the expected state: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A server with the account `acme`, whose `admin@example.org` holds `role`, and a token of
/// theirs with `scopes` (what a provisioning client or an administrator's script holds).
pub async fn provisioning(backend: Backend, role: &str, scopes: &[&str]) -> (TestServer, String) {
    provisioning_with(backend, TestServerOptions::default(), role, scopes).await
}

/// A server that delivers webhooks, an account administrator's token with `scopes`, and a
/// receiver to deliver to.
pub async fn delivering_server(
    backend: Backend,
    scopes: &[&str],
) -> (TestServer, String, receiver::Receiver) {
    let options = TestServerOptions {
        deliver: true,
        ..TestServerOptions::default()
    };
    let (server, token) =
        provisioning_with(backend, options, "account_administrator", scopes).await;
    (server, token, receiver::Receiver::start().await)
}

/// `provisioning` on a server started with `options`.
pub async fn provisioning_with(
    backend: Backend,
    options: TestServerOptions,
    role: &str,
    scopes: &[&str],
) -> (TestServer, String) {
    let server = TestServer::start_with(backend, options).await;
    let acme = server.account("acme").await;
    let admin = server.person(&acme, "admin@example.org", &[role]).await;
    let token = server.token(&acme, &admin, scopes).await;
    (server, token)
}
