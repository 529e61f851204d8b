//! The `gatehouse` binary as a user runs it: the admin CLI, `serve` with its logs, and shutdown.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(database_url: &str) -> Self {
        let port = free_port();
        let child = Command::new(BINARY)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("GATEHOUSE_DATABASE_URL", database_url)
            .env("GATEHOUSE_LOG_LEVEL", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base_url }
    }

    /// Sends SIGTERM and returns the exit success and everything the server logged.
    fn terminate(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        let mut logs = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut logs)
            .expect("read logs");
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut logs)
            .expect("read stdout");
        (exit.success(), logs)
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
        .json(
            &serde_json::json!({ "name": "api-made", "expires_in": 30, "scopes": ["people:read"] }),
        )
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
    let folder = tempfile::tempdir().expect("temporary folder");
    let database_url = format!("sqlite://{}/gatehouse.db", folder.path().display());
    let output = gatehouse(
        &database_url,
        &["account", "create", "Not A Slug", "--name", "X"],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("lowercase letters"));
    succeed(
        &database_url,
        &["account", "create", "acme", "--name", "Acme"],
    );
    let output = gatehouse(
        &database_url,
        &["account", "create", "acme", "--name", "Again"],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    let output = gatehouse(
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
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Person not found"));
    assert!(output.stdout.is_empty(), "no secret printed on failure");
    let output = gatehouse("mysql://localhost/x", &["migrate"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected sqlite://PATH or postgres://")
    );
}

#[test]
fn account_update_changes_the_scim_patch_response_setting() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let database_url = format!("sqlite://{}/gatehouse.db", folder.path().display());
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

    let refused = gatehouse(
        &database_url,
        &[
            "account",
            "update",
            "acme",
            "--scim-patch-response",
            "maybe",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("use resource or no-content"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let missing = gatehouse(
        &database_url,
        &["account", "update", "nobody", "--name", "X"],
    );
    assert!(!missing.status.success());
}
