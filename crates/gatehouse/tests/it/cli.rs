//! The `gatehouse` binary as a user runs it: the admin CLI, `serve` with its logs, and shutdown.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common;
use crate::common::receiver;

const BINARY: &str = env!("CARGO_BIN_EXE_gatehouse");

fn gatehouse(database_url: &str, arguments: &[&str]) -> Output {
    Command::new(BINARY)
        .args(arguments)
        .env("GATEHOUSE_DATABASE_URL", database_url)
        .env("GATEHOUSE_LOG_LEVEL", "trace")
        .output()
        .expect("run gatehouse")
}

fn succeed(database_url: &str, arguments: &[&str]) -> (String, String) {
    let output = gatehouse(database_url, arguments);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(output.status.success(), "{arguments:?} failed: {stderr}");
    (stdout, stderr)
}

/// A SQLite database in a fresh temporary folder, and its URL; the database lasts as long as
/// the folder.
fn sqlite_database() -> (tempfile::TempDir, String) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let database_url = format!("sqlite://{}/gatehouse.db", folder.path().display());
    (folder, database_url)
}

/// Runs the binary with `arguments`, asserts that it fails saying `expected` on stderr, and
/// returns its output.
fn fail_saying(database_url: &str, arguments: &[&str], expected: &str) -> Output {
    let output = gatehouse(database_url, arguments);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{arguments:?} succeeded");
    assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
    output
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// Whether `serve` on `port` answers `/readyz` with 200 (plain HTTP/1.0 over a socket).
fn ready(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut socket) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if socket.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = socket.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

struct Server {
    child: Child,
    base_url: String,
    /// Everything the server wrote to stderr and stdout, read as it comes: a pipe nobody
    /// reads fills up (64 KiB), and a server logging at `trace` would then block on its next
    /// line and stop answering.
    logs: std::sync::Arc<std::sync::Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Reads `pipe` to its end into `logs`, on a thread of its own.
fn drain(
    mut pipe: impl Read + Send + 'static,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0_u8; 8192];
        while let Ok(read) = pipe.read(&mut chunk) {
            if read == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&chunk[..read]).into_owned();
            logs.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_str(&text);
        }
    })
}

impl Server {
    fn start(database_url: &str) -> Self {
        Self::start_with_env(database_url, &[])
    }

    /// `serve` with extra environment variables.
    fn start_with_env(database_url: &str, environment: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = Command::new(BINARY)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("GATEHOUSE_DATABASE_URL", database_url)
            .env("GATEHOUSE_LOG_LEVEL", "trace")
            .envs(environment.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let mut child = child;
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let readers = vec![
            drain(child.stderr.take().expect("stderr"), logs.clone()),
            drain(child.stdout.take().expect("stdout"), logs.clone()),
        ];
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        // Listening comes first; ready (migrations applied) follows.
        while !ready(port) {
            assert!(Instant::now() < deadline, "server did not become ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            base_url,
            logs,
            readers,
        }
    }

    /// Sends SIGTERM and returns the exit success and everything the server logged.
    fn terminate(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        for reader in std::mem::take(&mut self.readers) {
            reader.join().expect("the log reader");
        }
        let logs = std::mem::take(
            &mut *self
                .logs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        (exit.success(), logs)
    }
}

/// A test that fails midway must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn bootstrap_with_the_cli_then_use_the_token_over_http_without_logging_secrets() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let database_url = format!("sqlite://{}/data/gatehouse.db", folder.path().display());
    let mut all_logs = String::new();

    let (stdout, stderr) = succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme Inc.", "--json"],
    );
    all_logs.push_str(&stderr);
    let accounts: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(accounts[0]["id"], "acme");
    let (stdout, _) = succeed(&database_url, &["account", "list"]);
    assert!(
        stdout.starts_with("ID") && stdout.contains("acme") && stdout.contains("Acme Inc."),
        "{stdout}"
    );

    let (stdout, stderr) = succeed(
        &database_url,
        &[
            "person",
            "create",
            "--account",
            "acme",
            "--email",
            "ada@example.org",
            "--name",
            "Ada",
            "--role",
            "account_administrator",
        ],
    );
    all_logs.push_str(&stderr);
    assert!(
        stdout.contains("ada@example.org") && stdout.contains("account_administrator"),
        "{stdout}"
    );

    let (stdout, stderr) = succeed(
        &database_url,
        &[
            "token",
            "create",
            "--account",
            "acme",
            "--person",
            "ada@example.org",
            "--name",
            "laptop",
            "--scope",
            "people:read",
            "--scope",
            "personal_access_tokens:write",
            "--expires-in",
            "7",
        ],
    );
    all_logs.push_str(&stderr);
    let secret = stdout.trim().to_owned();
    assert!(
        secret.starts_with("gth_pat_") && !secret.contains(char::is_whitespace),
        "stdout is the secret alone: {stdout:?}"
    );
    assert!(stderr.contains("not shown again"));

    let server = Server::start(&database_url);
    gatehouse::delivery::install_crypto_provider();
    let client = reqwest::blocking::Client::new();
    let me: Value = client
        .get(format!("{}/v1/me", server.base_url))
        .bearer_auth(&secret)
        .header("X-Gatehouse-Account", "acme")
        .send()
        .expect("request")
        .json()
        .expect("JSON");
    assert_eq!(me["primary_email"], "ada@example.org");
    let created: Value = client
        .post(format!("{}/v1/personal_access_tokens", server.base_url))
        .bearer_auth(&secret)
        .json(&serde_json::json!({ "name": "api-made", "scopes": ["people:read"] }))
        .send()
        .expect("request")
        .json()
        .expect("JSON");
    let second_secret = created["token_secret"].as_str().expect("secret").to_owned();
    let response = client
        .get(format!("{}/v1/me", server.base_url))
        .bearer_auth(&second_secret)
        .send()
        .expect("request");
    assert_eq!(response.status(), 200);
    let response = client
        .get(format!("{}/v1/me", server.base_url))
        .bearer_auth(format!("{second_secret}x"))
        .send()
        .expect("request");
    assert_eq!(response.status(), 401);
    let metrics = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .expect("request")
        .text()
        .expect("text");
    assert!(
        metrics.contains("gatehouse_http_requests_total") && metrics.contains("route=\"/v1/me\""),
        "{metrics}"
    );
    let (clean_exit, logs) = server.terminate();
    assert!(
        clean_exit,
        "SIGTERM shuts down gracefully with success: {logs}"
    );
    all_logs.push_str(&logs);

    let (stdout, stderr) = succeed(
        &database_url,
        &["token", "list", "--account", "acme", "--json"],
    );
    all_logs.push_str(&stderr);
    let tokens: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(tokens.as_array().expect("array").len(), 2);
    assert!(tokens[0]["last_used_at"].is_string(), "use was recorded");
    let id = tokens[1]["id"].as_str().expect("id").to_owned();
    let (stdout, _) = succeed(
        &database_url,
        &["token", "revoke", "--account", "acme", &id],
    );
    assert!(stdout.contains("revoked"), "{stdout}");
    let (table, _) = succeed(
        &database_url,
        &[
            "token",
            "list",
            "--account",
            "acme",
            "--person",
            "ada@example.org",
        ],
    );
    assert!(
        table.starts_with("ID") && table.contains("laptop") && table.contains("api-made"),
        "{table}"
    );

    assert!(
        all_logs.contains("TRACE") || all_logs.contains("DEBUG"),
        "the logs were captured at trace level"
    );
    for leaked in [&secret, &second_secret] {
        assert!(
            !all_logs.contains(leaked.as_str()),
            "a token secret appeared in the logs"
        );
        assert!(
            !stdout.contains(leaked.as_str()) && !table.contains(leaked.as_str()),
            "a secret appeared in a listing"
        );
        let random_part = &leaked[8..38];
        assert!(
            !all_logs.contains(random_part),
            "part of a token secret appeared in the logs"
        );
    }
    let mut database = Vec::new();
    for entry in std::fs::read_dir(folder.path().join("data")).expect("data folder") {
        database.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    assert!(
        !database
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()),
        "only the hash is stored"
    );
}

#[test]
fn cli_errors_are_clear_and_change_nothing() {
    let (_folder, database_url) = sqlite_database();
    fail_saying(
        &database_url,
        &["account", "create", "Not A Slug", "--name", "X"],
        "lowercase letters",
    );
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let output = gatehouse(
        &database_url,
        &["account", "create", "acme", "--name", "Again"],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    let output = fail_saying(
        &database_url,
        &[
            "token",
            "create",
            "--account",
            "acme",
            "--person",
            "nobody@example.org",
            "--name",
            "x",
        ],
        "Person not found",
    );
    assert!(output.stdout.is_empty(), "no secret printed on failure");
    let output = gatehouse("mysql://localhost/x", &["migrate"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected sqlite://PATH or postgres://")
    );
}

#[test]
fn account_update_changes_the_scim_patch_response_setting() {
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let (stdout, _) = succeed(&database_url, &["account", "list", "--json"]);
    let accounts: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(accounts[0]["scim_patch_response"], "resource");

    let (stdout, _) = succeed(
        &database_url,
        &[
            "account",
            "update",
            "acme",
            "--scim-patch-response",
            "no-content",
            "--name",
            "Acme Inc.",
            "--json",
        ],
    );
    let updated: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(updated[0]["scim_patch_response"], "no_content");
    assert_eq!(updated[0]["name"], "Acme Inc.");
    let (stdout, _) = succeed(&database_url, &["account", "list"]);
    assert!(stdout.contains("no_content"), "{stdout}");

    fail_saying(
        &database_url,
        &[
            "account",
            "update",
            "acme",
            "--scim-patch-response",
            "maybe",
        ],
        "use resource or no-content",
    );
    let missing = gatehouse(
        &database_url,
        &["account", "update", "nobody", "--name", "X"],
    );
    assert!(!missing.status.success());
}

/// `serve` says at start which version runs on which schema.
#[test]
fn serve_logs_its_version_and_schema_version() {
    gatehouse::delivery::install_crypto_provider();
    let (_folder, database_url) = sqlite_database();
    let server = Server::start(&database_url);
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::blocking::get(format!("{}/readyz", server.base_url))
        .map_or(true, |answer| answer.status() != 200)
    {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (stopped, logs) = server.terminate();
    assert!(stopped);
    let serving = logs
        .lines()
        .find(|line| line.contains("gatehouse serving"))
        .unwrap_or_else(|| panic!("no start line: {logs}"));
    assert!(serving.contains(env!("CARGO_PKG_VERSION")), "{serving}");
    let schema = format!(
        "schema_version={}",
        crate::operations::latest_migration("sqlite")
    );
    assert!(serving.contains(&schema), "{serving}");
}

/// Retention from the CLI: the setting with its bounds, and `purge` (its report, its scope, and
/// its refusal of a cutoff in the future).
#[test]
fn account_retention_and_purge_from_the_cli() {
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let (stdout, _) = succeed(&database_url, &["account", "list"]);
    assert!(stdout.contains("RETENTION DAYS"), "{stdout}");
    let (stdout, _) = succeed(
        &database_url,
        &[
            "account",
            "update",
            "acme",
            "--delivery-retention-days",
            "7",
            "--json",
        ],
    );
    let updated: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(updated[0]["delivery_retention_days"], 7);
    fail_saying(
        &database_url,
        &[
            "account",
            "update",
            "acme",
            "--delivery-retention-days",
            "0",
        ],
        "delivery_retention_days must be a whole number of days from 1 to 3650, not 0",
    );
    let (stdout, _) = succeed(&database_url, &["account", "list", "--json"]);
    assert_eq!(
        json_array(&stdout)[0]["delivery_retention_days"],
        7,
        "a refusal changes nothing"
    );

    // No webhook, so no delivery to purge; a cutoff of now is the latest `--before` takes.
    let (stdout, _) = succeed(&database_url, &["purge", "--account", "acme", "--json"]);
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["deliveries"], 0, "{report}");
    let now = chrono::Utc::now().to_rfc3339();
    let (stdout, _) = succeed(&database_url, &["purge", "--before", &now]);
    assert!(
        stdout.contains("DELIVERIES") && stdout.contains("PAGES RECLAIMED"),
        "{stdout}"
    );
    fail_saying(
        &database_url,
        &["purge", "--before", "2999-01-01T00:00:00Z"],
        "is in the future",
    );
    fail_saying(&database_url, &["purge", "--account", "nobody"], "Account");
}

/// The last line of the command's stdout: where a secret goes.
fn last_line(stdout: &str) -> String {
    stdout.lines().last().unwrap_or_default().trim().to_owned()
}

#[test]
fn the_scim_provisioning_credential_from_the_cli_provisions_through_serve() {
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    fail_saying(
        &database_url,
        &["scim-token", "show", "--account", "acme"],
        "SCIM provisioning credential not found",
    );
    let (stdout, stderr) = succeed(
        &database_url,
        &["scim-token", "create", "--account", "acme"],
    );
    let first = last_line(&stdout);
    assert!(
        first.starts_with("gth_scim_") && first.len() == 45,
        "{stdout}"
    );
    assert!(stderr.contains("not shown again"), "{stderr}");
    fail_saying(
        &database_url,
        &["scim-token", "create", "--account", "acme"],
        "already has a SCIM provisioning credential",
    );
    let (stdout, stderr) = succeed(
        &database_url,
        &[
            "scim-token",
            "rotate",
            "--account",
            "acme",
            "--overlap-days",
            "3",
        ],
    );
    let second = last_line(&stdout);
    assert!(second.starts_with("gth_scim_") && second != first);
    assert!(
        stderr.contains("The previous secret works until"),
        "{stderr}"
    );
    fail_saying(
        &database_url,
        &[
            "scim-token",
            "rotate",
            "--account",
            "acme",
            "--overlap-days",
            "31",
        ],
        "overlap_days must be between 0 and 30",
    );

    let (stdout, _) = succeed(&database_url, &["scim-token", "show", "--account", "acme"]);
    assert!(
        stdout.contains("current")
            && stdout.contains("previous")
            && stdout.contains("command line"),
        "{stdout}"
    );
    let (stdout, _) = succeed(
        &database_url,
        &["scim-token", "show", "--account", "acme", "--json"],
    );
    assert!(!stdout.contains(&first[9..]) && !stdout.contains(&second[9..]));
    let shown: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(shown["prefix"], "gth_scim_");
    assert!(shown["previous"]["expires_at"].is_string(), "{shown}");

    // Both secrets provision through `serve`; the server never logs them.
    let server = Server::start(&database_url);
    gatehouse::delivery::install_crypto_provider();
    let client = reqwest::blocking::Client::new();
    for secret in [&first, &second] {
        let response = client
            .post(format!("{}/scim/v2/Users", server.base_url))
            .bearer_auth(secret)
            .header("Content-Type", "application/scim+json")
            .body(
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("user-{}@example.org", &secret[9..14]),
                })
                .to_string(),
            )
            .send()
            .expect("response");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }
    succeed(
        &database_url,
        &["scim-token", "revoke", "--account", "acme"],
    );
    let response = client
        .get(format!("{}/scim/v2/Users", server.base_url))
        .bearer_auth(&second)
        .send()
        .expect("response");
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    let (stopped, logs) = server.terminate();
    assert!(stopped);
    assert!(
        !logs.contains(&first[9..]) && !logs.contains(&second[9..]),
        "a secret was logged"
    );
}

/// Runs raw SQL on a SQLite database the binary made, for rows it would no longer write.
fn sqlite_execute(database_url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(common::execute_on_sqlite(database_url, sql));
}

/// People created before emails were folded (`bob@` and `ＢＯＢ@`, keyed by the old
/// lower-casing): `gatehouse migrate` recomputes the keys, keeps going, and prints the clash.
#[test]
fn migrate_prints_look_alike_identities_it_found() {
    let (_folder, database_url) = sqlite_database();
    let (_, stderr) = succeed(&database_url, &["migrate"]);
    assert!(
        stderr.contains("comparison keys recomputed (fold version 0 to"),
        "{stderr}"
    );
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let person = |email: &str| -> String {
        let (stdout, _) = succeed(
            &database_url,
            &[
                "person",
                "create",
                "--account",
                "acme",
                "--email",
                email,
                "--name",
                "Bob",
                "--json",
            ],
        );
        let created: Value = serde_json::from_str(&stdout).expect("JSON");
        created[0]["id"].as_str().expect("id").to_owned()
    };
    let bob = person("bob@example.com");
    sqlite_execute(
        &database_url,
        "UPDATE people SET primary_email_key = 'parked' WHERE primary_email = 'bob@example.com'",
    );
    let twin = person("ＢＯＢ@example.com");
    for sql in [
        "UPDATE people SET primary_email_key = 'ｂｏｂ@example.com' \
         WHERE primary_email = 'ＢＯＢ@example.com'",
        "UPDATE people SET primary_email_key = 'bob@example.com' \
         WHERE primary_email = 'bob@example.com'",
        "UPDATE key_fold_version SET version = 0",
    ] {
        sqlite_execute(&database_url, sql);
    }

    let (_, stderr) = succeed(&database_url, &["migrate"]);
    assert!(
        stderr.contains(&format!(
            "look-alike identities: account acme: the primary email of person {twin} looks \
             like that of person {bob}, which keeps it"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("migrations applied"), "{stderr}");
    let (_, stderr) = succeed(&database_url, &["migrate"]);
    assert!(!stderr.contains("look-alike"), "reported once: {stderr}");
}

fn json_array(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .expect("JSON")
        .as_array()
        .expect("an array")
        .clone()
}

#[test]
fn webhook_cli_creates_unverified_lists_disables_and_enables() {
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );

    let (stdout, stderr) = succeed(
        &database_url,
        &[
            "webhook",
            "create",
            "--account",
            "acme",
            "--event",
            "person.*",
            "--uri",
            "https://93.184.215.14/hooks/gatehouse",
            "--description",
            "HR sync",
            "--mail-exceptions-to",
            "ops@example.org, dev@example.org",
            "--ordered",
            "--rate-limit-per-second",
            "5",
            "--json",
        ],
    );
    let created = json_array(&stdout);
    assert_eq!(created.len(), 1, "{stdout}");
    let webhook = &created[0];
    assert_eq!(webhook["account_id"], "acme");
    assert_eq!(webhook["event"], "person.*");
    assert_eq!(
        webhook["name"], "person.*",
        "the name defaults to the event"
    );
    assert_eq!(webhook["uri"], "https://93.184.215.14/hooks/gatehouse");
    assert_eq!(webhook["description"], "HR sync");
    assert_eq!(
        webhook["mail_exceptions_to"],
        "ops@example.org, dev@example.org"
    );
    assert_eq!(webhook["ordered"], true);
    assert_eq!(webhook["rate_limit_per_second"], 5);
    assert_eq!(webhook["disabled"], false);
    assert_eq!(webhook["verified"], false);
    assert_eq!(webhook["state"], "unverified");
    assert!(webhook["verification_sent_at"].is_string(), "{webhook}");
    assert!(webhook.get("verification_hash").is_none(), "{webhook}");
    assert!(
        stderr.contains("unverified") && stderr.contains("gatehouse serve"),
        "{stderr}"
    );
    let id = webhook["id"].as_str().expect("id").to_owned();

    // The verification message is queued in the same transaction, for `serve` to send.
    let (stdout, _) = succeed(
        &database_url,
        &["webhook", "deliveries", "--account", "acme", &id, "--json"],
    );
    let deliveries = json_array(&stdout);
    assert_eq!(deliveries.len(), 1, "{stdout}");
    assert_eq!(deliveries[0]["event"], "webhook.verify");
    assert_eq!(deliveries[0]["status"], "pending");

    let (stdout, _) = succeed(
        &database_url,
        &[
            "webhook",
            "create",
            "--account",
            "acme",
            "--event",
            "app.invoice.paid",
            "--uri",
            "https://93.184.215.14/invoices",
            "--name",
            "Invoices",
            "--disabled",
            "--json",
        ],
    );
    let second = json_array(&stdout)[0].clone();
    assert_eq!(second["state"], "disabled");
    assert_eq!(second["disabled_reason"], "manual");

    let (table, _) = succeed(&database_url, &["webhook", "list", "--account", "acme"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains(&id) && table.contains("Invoices") && table.contains("unverified"),
        "{table}"
    );
    let listed = |filter: &[&str]| -> Vec<String> {
        let mut arguments = vec!["webhook", "list", "--account", "acme", "--json"];
        arguments.extend_from_slice(filter);
        let (stdout, _) = succeed(&database_url, &arguments);
        json_array(&stdout)
            .iter()
            .map(|webhook| webhook["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(listed(&[]), ["person.*", "Invoices"]);
    assert_eq!(listed(&["--enabled"]), ["person.*"]);
    assert_eq!(listed(&["--disabled"]), ["Invoices"]);

    let (stdout, _) = succeed(
        &database_url,
        &["webhook", "disable", "--account", "acme", &id, "--json"],
    );
    let disabled = json_array(&stdout);
    assert_eq!(disabled[0]["disabled"], true);
    assert_eq!(disabled[0]["state"], "disabled");
    assert_eq!(listed(&["--disabled"]), ["person.*", "Invoices"]);
    assert!(listed(&["--enabled"]).is_empty());

    let (stdout, _) = succeed(
        &database_url,
        &["webhook", "enable", "--account", "acme", &id],
    );
    assert!(
        stdout.starts_with("ID") && stdout.contains("unverified"),
        "{stdout}"
    );
    assert_eq!(listed(&["--enabled"]), ["person.*"]);

    fail_saying(
        &database_url,
        &[
            "webhook",
            "disable",
            "--account",
            "acme",
            "01a2273a-6200-74d6-b306-ccbbdcc9ac0f",
        ],
        "Webhook not found",
    );
}

#[test]
fn webhook_cli_refuses_internal_targets_unless_allowed() {
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let create = |uri: &str, extra: &[&str], environment: &[(&str, &str)]| {
        let mut arguments = vec![
            "webhook",
            "create",
            "--account",
            "acme",
            "--event",
            "person.create",
            "--uri",
            uri,
            "--json",
        ];
        arguments.extend_from_slice(extra);
        Command::new(BINARY)
            .args(&arguments)
            .env("GATEHOUSE_DATABASE_URL", &database_url)
            .env_remove("GATEHOUSE_ALLOW_PRIVATE_TARGETS")
            .env_remove("GATEHOUSE_ALLOWED_TARGET_NETWORKS")
            .envs(environment.iter().copied())
            .output()
            .expect("run gatehouse")
    };

    for uri in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
    ] {
        let refused = create(uri, &[], &[]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{uri} was accepted");
        assert!(refused.stdout.is_empty(), "nothing printed for {uri}");
        assert!(
            stderr.contains("GATEHOUSE_ALLOW_PRIVATE_TARGETS"),
            "{uri}: {stderr}"
        );
    }
    let refused = create("http://127.0.0.1:9/hook", &[], &[]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("uri: 127.0.0.1 is a loopback address"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let (stdout, _) = succeed(
        &database_url,
        &["webhook", "list", "--account", "acme", "--json"],
    );
    assert!(json_array(&stdout).is_empty(), "nothing was created");

    let allowed = create(
        "http://127.0.0.1:9/hook",
        &["--allow-private-targets", "true"],
        &[],
    );
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let allowed = create(
        "http://localhost:9/hook",
        &[],
        &[("GATEHOUSE_ALLOW_PRIVATE_TARGETS", "true")],
    );
    assert!(allowed.status.success());
    let allowed = create(
        "http://10.1.2.3/hook",
        &[],
        &[("GATEHOUSE_ALLOWED_TARGET_NETWORKS", "10.1.0.0/16")],
    );
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let outside = create(
        "http://10.2.0.1/hook",
        &["--allowed-target-networks", "10.1.0.0/16"],
        &[],
    );
    assert!(
        !outside.status.success(),
        "only the listed network is allowed"
    );
    let (stdout, _) = succeed(
        &database_url,
        &["webhook", "list", "--account", "acme", "--json"],
    );
    assert_eq!(json_array(&stdout).len(), 3);

    let invalid = create(
        "ftp://example.org/x",
        &["--rate-limit-per-second", "0"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert!(!invalid.status.success());
    assert!(
        stderr.contains("rate_limit_per_second must be between 1 and 10000")
            && stderr.contains("the scheme \"ftp\" is not supported"),
        "every problem is named: {stderr}"
    );
}

/// `webhook create` for `app.*` at `receiver_url`, its callback on `server`; returns the
/// webhook (JSON) and the CLI's logs.
fn create_webhook_at(database: &str, receiver_url: &str, server: &Server) -> (Value, String) {
    let (stdout, logs) = succeed(
        database,
        &[
            "webhook",
            "create",
            "--account",
            "acme",
            "--event",
            "app.*",
            "--uri",
            receiver_url,
            "--base-url",
            &format!("{}/", server.base_url),
            "--allow-private-targets",
            "true",
            "--json",
        ],
    );
    (json_array(&stdout)[0].clone(), logs)
}

/// The account's first webhook once it is verified, or as it is after 10 seconds.
fn first_webhook_once_verified(database: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (stdout, _) = succeed(
            database,
            &["webhook", "list", "--account", "acme", "--json"],
        );
        let webhook = json_array(&stdout)[0].clone();
        if webhook["verified"] == true || Instant::now() > deadline {
            return webhook;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The whole flow an operator follows: `webhook create` from the CLI, `serve` sends the
/// verification message, the receiver calls the callback (which starts with `--base-url`), and
/// the webhook is verified.
#[tokio::test(flavor = "multi_thread")]
async fn webhook_created_with_the_cli_is_verified_through_serve() {
    // The receiver calls the callback with reqwest, which needs a TLS provider chosen.
    gatehouse::delivery::install_crypto_provider();
    let (_folder, database_url) = sqlite_database();
    let receiver = receiver::Receiver::start().await;
    let (database, receiver_url) = (database_url.clone(), receiver.url.clone());
    let (server, webhook, cli_logs) = tokio::task::spawn_blocking(move || {
        succeed(&database, &["account", "create", "acme", "--name", "Acme"]);
        let server = Server::start_with_env(
            &database,
            &[
                ("GATEHOUSE_ALLOW_PRIVATE_TARGETS", "true"),
                ("GATEHOUSE_DELIVERY_POLL_INTERVAL_MS", "50"),
            ],
        );
        let (webhook, cli_logs) = create_webhook_at(&database, &receiver_url, &server);
        (server, webhook, cli_logs)
    })
    .await
    .expect("CLI");
    let id = webhook["id"].as_str().expect("id").to_owned();

    let verify = receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    assert_eq!(verify[0].header("x-gatehouse-webhook"), Some(id.as_str()));
    let message = verify[0].json();
    let callback = message["payload"]["callback"].as_str().expect("callback");
    assert!(
        callback.starts_with(&format!(
            "{}/v1/webhook_verifications/ghv_",
            server.base_url
        )),
        "{callback}"
    );

    let database = database_url.clone();
    let verified = tokio::task::spawn_blocking(move || first_webhook_once_verified(&database))
        .await
        .expect("CLI");
    assert_eq!(verified["state"], "active", "{verified}");

    // The attempt is recorded shortly after the receiver answered (outcomes are recorded in
    // batches), so the listing may need a moment to show it succeeded.
    let database = database_url.clone();
    let deliveries = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (stdout, _) = succeed(
                &database,
                &[
                    "webhook",
                    "deliveries",
                    "--account",
                    "acme",
                    &id,
                    "--status",
                    "succeeded",
                    "--json",
                ],
            );
            let deliveries = json_array(&stdout);
            if !deliveries.is_empty() || Instant::now() > deadline {
                return deliveries;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("CLI");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["event"], "webhook.verify");
    assert_eq!(deliveries[0]["attempt"], 1);
    assert!(
        deliveries[0]["payload"]["payload"]["callback"]
            .as_str()
            .is_some_and(|shown| shown.ends_with("/[redacted]")),
        "the one-time callback is not shown: {}",
        deliveries[0]
    );
    let (clean_exit, logs) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("terminate");
    assert!(clean_exit, "{logs}");
    // The one-time secret is a credential: no log line holds it, at the most verbose level,
    // not the request span of the callback itself.
    let secret = callback.rsplit('/').next().expect("secret");
    assert!(secret.starts_with("ghv_") && secret.len() > 20, "{secret}");
    assert!(logs.contains("TRACE"), "serve logged at trace level");
    for (logs, whose) in [(&logs, "serve"), (&cli_logs, "webhook create")] {
        assert!(
            !logs.contains(secret),
            "{whose} logged the verification secret"
        );
        assert!(!logs.contains(&secret[4..]), "{whose} logged part of it");
    }
    assert!(
        logs.contains("/v1/webhook_verifications/[redacted]"),
        "the callback's request is logged, redacted: {logs}"
    );
}

/// Break-glass: the operator lists people and restores anyone — an administrator an identity
/// provider disabled and renamed included — from the CLI, SCIM-provisioned or not.
#[test]
fn the_operator_can_always_restore_a_person_from_the_cli() {
    gatehouse::delivery::install_crypto_provider();
    let (_folder, database_url) = sqlite_database();
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    succeed(
        &database_url,
        &[
            "person",
            "create",
            "--account",
            "acme",
            "--email",
            "ada@example.org",
            "--name",
            "Ada",
            "--role",
            "account_administrator",
        ],
    );
    let (token, _) = succeed(
        &database_url,
        &[
            "token",
            "create",
            "--account",
            "acme",
            "--person",
            "ada@example.org",
            "--name",
            "idp",
            "--scope",
            "scim:write",
        ],
    );
    let token = token.trim().to_owned();

    // The identity provider takes Ada over, renames and deactivates her: her token stops.
    let server = Server::start(&database_url);
    let client = reqwest::blocking::Client::new();
    let response = client
        .post(format!("{}/scim/v2/Users", server.base_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@example.org",
            "name": {"givenName": "Wrong", "familyName": "Name"},
            "emails": [{"value": "ada@example.org", "primary": true}],
            "active": false
        }))
        .send()
        .expect("request");
    assert_eq!(response.status(), 201);
    let (stdout, _) = succeed(
        &database_url,
        &["person", "list", "--account", "acme", "--json"],
    );
    let people = json_array(&stdout);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["source"], "scim");
    assert_eq!(people[0]["disabled"], true);
    assert_eq!(people[0]["name"], "Wrong Name");
    let (table, _) = succeed(&database_url, &["person", "list", "--account", "acme"]);
    assert!(
        table.starts_with("ID") && table.contains("disabled") && table.contains("scim"),
        "{table}"
    );

    let (stdout, _) = succeed(
        &database_url,
        &[
            "person",
            "update",
            "--account",
            "acme",
            "ADA@example.org",
            "--enable",
            "--name",
            "Ada Lovelace",
            "--role",
            "account_administrator",
            "--role",
            "directory_administrator",
            "--json",
        ],
    );
    let ada = json_array(&stdout)[0].clone();
    assert_eq!(ada["disabled"], false);
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(
        ada["roles"],
        serde_json::json!(["account_administrator", "directory_administrator"])
    );
    // By id works too, and --disable stops her tokens.
    let id = ada["id"].as_str().expect("id").to_owned();
    succeed(
        &database_url,
        &["person", "update", "--account", "acme", &id, "--disable"],
    );
    let (stdout, _) = succeed(
        &database_url,
        &["person", "list", "--account", "acme", "--json"],
    );
    assert_eq!(json_array(&stdout)[0]["disabled"], true);

    fail_saying(
        &database_url,
        &[
            "person",
            "update",
            "--account",
            "acme",
            "nobody@example.org",
            "--enable",
        ],
        "Person not found",
    );
    let both = gatehouse(
        &database_url,
        &[
            "person",
            "update",
            "--account",
            "acme",
            &id,
            "--enable",
            "--disable",
        ],
    );
    assert!(!both.status.success(), "--enable and --disable conflict");
    drop(server);
}

/// `gatehouse backup` while `serve` takes events: `serve` started on the copy (with the server
/// key file copied beside it, as README says) has every event acknowledged before the backup
/// began, and sends their pending deliveries.
#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_under_load_keeps_every_acknowledged_event() {
    gatehouse::delivery::install_crypto_provider();
    let (folder, database_url) = sqlite_database();
    let receiver = receiver::Receiver::start().await;
    let quiet = [
        ("GATEHOUSE_ALLOW_PRIVATE_TARGETS", "true"),
        ("GATEHOUSE_DELIVERY_POLL_INTERVAL_MS", "50"),
        ("GATEHOUSE_LOG_LEVEL", "warn"),
    ];
    let (database, receiver_url) = (database_url.clone(), receiver.url.clone());
    let token = tokio::task::spawn_blocking(move || {
        succeed(&database, &["account", "create", "acme", "--name", "Acme"]);
        succeed(
            &database,
            &[
                "person",
                "create",
                "--account",
                "acme",
                "--email",
                "ada@example.org",
                "--name",
                "Ada",
                "--role",
                "account_administrator",
            ],
        );
        let (stdout, _) = succeed(
            &database,
            &[
                "token",
                "create",
                "--account",
                "acme",
                "--person",
                "ada@example.org",
                "--name",
                "publisher",
                "--scope",
                "events:write",
            ],
        );
        // Verified through a delivering server, which then stops.
        let server = Server::start_with_env(&database, &quiet);
        create_webhook_at(&database, &receiver_url, &server);
        assert_eq!(first_webhook_once_verified(&database)["verified"], true);
        let (stopped, _) = server.terminate();
        assert!(stopped);
        stdout.lines().last().expect("secret").trim().to_owned()
    })
    .await
    .expect("CLI");

    // A server that only takes events, so what they are owed stays pending.
    let mut only_api = quiet.to_vec();
    only_api.push(("GATEHOUSE_DELIVERY_ENABLED", "false"));
    let database = database_url.clone();
    let server = tokio::task::spawn_blocking(move || Server::start_with_env(&database, &only_api))
        .await
        .expect("serve");
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut publishers = Vec::new();
    for publisher in 0..4 {
        let (url, token) = (format!("{}/v1/events", server.base_url), token.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        publishers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let object_id = format!("{publisher}-{sent}");
                sent += 1;
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "event": "app.tick", "object_id": object_id }))
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(answer.status(), 202);
                acknowledged.lock().expect("lock").push(object_id);
            }
        }));
    }
    // Under load before the backup starts (however slow this machine is today): 20 events.
    let count = || acknowledged.lock().expect("lock").len();
    let within = Duration::from_secs(30);
    common::wait_until(within, "20 events before the backup", || async {
        count() >= 20
    })
    .await;
    let before_backup: Vec<String> = acknowledged.lock().expect("lock").clone();
    let copy_folder = tempfile::tempdir().expect("temp dir");
    let copy = copy_folder.path().join("gatehouse.db");
    let (database, target) = (database_url.clone(), copy.clone());
    let (stdout, stderr) = tokio::task::spawn_blocking(move || {
        succeed(
            &database,
            &["backup", "--to", target.to_str().expect("path")],
        )
    })
    .await
    .expect("backup");
    assert_eq!(stdout.trim(), copy.display().to_string());
    assert!(
        stderr.contains("secret.key"),
        "names the key file: {stderr}"
    );
    // And still under load after it.
    let published_after = || async { count() > before_backup.len() };
    common::wait_until(within, "an event after the backup", published_after).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for publisher in publishers {
        publisher.await.expect("publisher");
    }
    let after = acknowledged.lock().expect("lock").len();
    assert!(
        before_backup.len() >= 20 && after > before_backup.len(),
        "published under load: {} before the backup, {after} in all",
        before_backup.len()
    );
    let database = database_url.clone();
    let target = copy.clone();
    tokio::task::spawn_blocking(move || {
        let (stopped, _) = server.terminate();
        assert!(stopped);
        fail_saying(
            &database,
            &["backup", "--to", target.to_str().expect("path")],
            "exists",
        );
    })
    .await
    .expect("stop");

    // The copy, with the key file beside it, delivers what was acknowledged before the backup.
    std::fs::copy(
        folder.path().join("secret.key"),
        copy_folder.path().join("secret.key"),
    )
    .expect("copy the key file");
    let copy_url = format!("sqlite://{}", copy.display());
    let restored = tokio::task::spawn_blocking(move || Server::start_with_env(&copy_url, &quiet))
        .await
        .expect("serve the copy");
    let owed: std::collections::HashSet<String> = before_backup.iter().cloned().collect();
    // The copy holds a few events acknowledged during the backup too; wait for the owed ones.
    let received = receiver
        .wait_for(owed.len(), |message| {
            message.event() == "app.tick"
                && message.json()["object_id"]
                    .as_str()
                    .is_some_and(|object_id| owed.contains(object_id))
        })
        .await;
    let delivered: std::collections::HashSet<String> = received
        .iter()
        .map(|message| {
            message.json()["object_id"]
                .as_str()
                .expect("object_id")
                .to_owned()
        })
        .collect();
    let missing: Vec<&String> = before_backup
        .iter()
        .filter(|object_id| !delivered.contains(*object_id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not delivered: {missing:?}"
    );
    tokio::task::spawn_blocking(move || restored.terminate())
        .await
        .expect("stop");
}
