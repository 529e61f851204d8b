//! Webhook delivery under load, over real HTTP (BENCHMARKS.md "Webhook deliveries"): the real
//! router and one delivery worker on 127.0.0.1, publishing custom events with `POST /v1/events`,
//! and this binary's own keep-alive receiver answering 200 at once.
//!
//! Measures, per backend and fan-out (webhooks each event goes to):
//! - ingest: events per second `POST /v1/events` accepts from a few keep-alive connections, the
//!   worker delivering meanwhile (deliveries per second during the load, then the time to drain
//!   what was left);
//! - backlog: deliveries per second with everything published up front (the worker stopped while
//!   at least `GATEHOUSE_BENCH_BACKLOG` deliveries are queued through `Services::publish_event`,
//!   then started), from the first receipt to the last, and until every attempt was recorded;
//! - latency: publish (the client's send time, carried in the payload) to receipt, at fixed
//!   open-loop rates: requests go out on a schedule without waiting for earlier answers;
//! - peak RSS (`VmHWM`, reset before each phase) and RSS after it; CPU used by this process
//!   (its SQLite threads apart), by PostgreSQL's processes and by the whole machine.
//!
//! Every phase ends with a check that each published event reached each webhook exactly once
//! (duplicates, missing and unexpected messages are reported) and that nothing stays pending.
//!
//! The webhooks listen to `bench.*`; they are created through `Services::create_webhook` and
//! verified by the receiver, which calls back the URL of the `webhook.verify` message.
//!
//! ```sh
//! cargo bench -p gatehouse --bench webhooks
//! GATEHOUSE_BENCH_FANOUT=1,10 cargo bench -p gatehouse --bench webhooks
//! ```
//!
//! Environment (all optional):
//! - `GATEHOUSE_BENCH_BACKENDS` (`sqlite,postgres`).
//! - `GATEHOUSE_TEST_POSTGRES_URL` (`postgres://postgres@127.0.0.1:5432/test`): the run gets a
//!   fresh schema there, dropped at the end.
//! - `GATEHOUSE_BENCH_FANOUT` (`1`): webhooks per event; a list (`1,10`) runs each in turn, each
//!   in a fresh account of the same database.
//! - `GATEHOUSE_BENCH_SECONDS` (10): how long the ingest phase publishes.
//! - `GATEHOUSE_BENCH_CONCURRENCY` (8): connections publishing in the ingest phase.
//! - `GATEHOUSE_BENCH_BACKLOG` (50000): deliveries queued before the backlog phase.
//! - `GATEHOUSE_BENCH_RATES` (`100,1000,5000`): events per second of the latency phases.
//! - `GATEHOUSE_BENCH_LATENCY_SECONDS` (5): how long each latency phase publishes, but never more
//!   than 10,000 events (5,000 events/s runs 2 s), so that a rate the server can't sustain does
//!   not take minutes to drain.
//! - `GATEHOUSE_BENCH_MAX_CONNECTIONS` (256): requests in flight at most in a latency phase; a
//!   request that finds none free goes out late.
//! - `GATEHOUSE_BENCH_PHASES` (`ingest,backlog,latency`).
//! - `GATEHOUSE_BENCH_JWT_ALG` (unset): link every webhook to a policy of this algorithm
//!   (`rs256`, `es256`, …), so that every attempt is signed; compare with `--bench signing`.
//! - `GATEHOUSE_BENCH_SQL_PROFILE`: also print, per phase, where the database time went (every
//!   sqlx statement's execution time, grouped by statement; this slows everything down).
//! - `GATEHOUSE_LOG_LEVEL` (`warn`): the log filter (stderr).
//! - To try other worker and sender settings than `gatehouse serve`'s defaults:
//!   `GATEHOUSE_BENCH_WORKER_IN_FLIGHT` (512), `GATEHOUSE_BENCH_WORKER_PER_WEBHOOK` (32),
//!   `GATEHOUSE_BENCH_WORKER_BATCH` (256), `GATEHOUSE_BENCH_WORKER_RECORD_BATCH` (512),
//!   `GATEHOUSE_BENCH_WORKER_LEASE_SECS` (50) and
//!   `GATEHOUSE_BENCH_IDLE_PER_HOST` (the sender's default, 64: idle connections kept per receiver).
//!
//! Client, server, worker and receiver share the process and its CPU (and, on PostgreSQL, the
//! machine with the database server).

#[path = "support/database.rs"]
mod database;
#[path = "../tests/it/common/seed.rs"]
#[allow(dead_code)] // not every bench seeds with every helper
mod seed;
#[path = "support/server.rs"]
mod server;
#[path = "support/settings.rs"]
mod settings;

use database::Database;
use settings::{env_list, env_or, ms, percentile};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::serve::ListenerExt;
use chrono::Utc;
use gatehouse::delivery::sender::SenderSettings;
use gatehouse::delivery::worker::{self, Jitter, WorkerSettings};
use gatehouse::domain::{Account, WebhookId};
use gatehouse::service::{
    NewWebhook, NewWebhookPolicy, Principal, PublishEvent, Services, SystemClock,
};
use serde::Deserialize;
use tokio::sync::{Semaphore, watch};

/// The event every phase publishes; the webhooks listen to `bench.*`.
const EVENT: &str = "bench.load";
/// A request sent this much after its slot in an open-loop schedule counts as late.
const LATE_AFTER: Duration = Duration::from_millis(10);
/// How long a phase waits for one more message before calling the rest missing.
const STALL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a phase keeps listening once every message arrived, to catch duplicates.
const SETTLE: Duration = Duration::from_millis(300);
/// How long a phase waits, after the last message, for the worker to record every attempt.
const RECORD_TIMEOUT: Duration = Duration::from_secs(120);
/// A latency phase publishes at most this many events (5,000 events/s for 2 s), so that a rate
/// the server can't sustain does not take minutes to drain.
const LATENCY_MAX_EVENTS: u64 = 10_000;

struct Config {
    fanouts: Vec<usize>,
    seconds: u64,
    concurrency: usize,
    backlog: usize,
    rates: Vec<u32>,
    latency_seconds: u64,
    max_connections: usize,
    phases: Vec<String>,
    worker: WorkerSettings,
    sender_idle_per_host: usize,
}

impl Config {
    fn from_env() -> Self {
        Self {
            fanouts: env_list::<usize>("GATEHOUSE_BENCH_FANOUT", "1")
                .into_iter()
                .map(|fanout| fanout.max(1))
                .collect(),
            seconds: env_or("GATEHOUSE_BENCH_SECONDS", 10).max(1),
            concurrency: env_or("GATEHOUSE_BENCH_CONCURRENCY", 8).max(1),
            backlog: env_or("GATEHOUSE_BENCH_BACKLOG", 50_000).max(1),
            rates: env_list("GATEHOUSE_BENCH_RATES", "100,1000,5000"),
            latency_seconds: env_or("GATEHOUSE_BENCH_LATENCY_SECONDS", 5).max(1),
            max_connections: env_or("GATEHOUSE_BENCH_MAX_CONNECTIONS", 256).max(1),
            phases: env_list("GATEHOUSE_BENCH_PHASES", "ingest,backlog,latency"),
            worker: worker_settings(),
            sender_idle_per_host: env_or(
                "GATEHOUSE_BENCH_IDLE_PER_HOST",
                SenderSettings::default().max_idle_per_host,
            ),
        }
    }

    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|name| name == phase)
    }
}

/// The worker as `gatehouse serve` runs it with its default settings (config.rs): 512 attempts
/// in flight, 32 per webhook, polling every second, a lease of twice the 10 s timeout plus 30 s;
/// the `GATEHOUSE_BENCH_WORKER_*` variables change them, to try other settings.
fn worker_settings() -> WorkerSettings {
    let defaults = WorkerSettings::default();
    WorkerSettings {
        max_in_flight: env_or("GATEHOUSE_BENCH_WORKER_IN_FLIGHT", 512),
        max_in_flight_per_webhook: env_or("GATEHOUSE_BENCH_WORKER_PER_WEBHOOK", 32),
        batch_size: env_or("GATEHOUSE_BENCH_WORKER_BATCH", defaults.batch_size),
        record_batch_size: env_or(
            "GATEHOUSE_BENCH_WORKER_RECORD_BATCH",
            defaults.record_batch_size,
        ),
        poll_interval: Duration::from_millis(1000),
        lease: Duration::from_secs(env_or("GATEHOUSE_BENCH_WORKER_LEASE_SECS", 10 * 2 + 30)),
        instance_name: "gatehouse".to_owned(),
        jitter: Jitter::Random,
    }
}

/// Nanoseconds since the process's first call: client and receiver share this clock.
fn now_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    u64::try_from(ORIGIN.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

// ---------------------------------------------------------------------------------------------
// The receiver.

/// One message as the receiver got it.
#[derive(Clone, Copy)]
struct Receipt {
    /// The webhook's index in its account (the path `/hook/{index}`).
    webhook: u32,
    seq: u64,
    sent_ns: u64,
    /// The request's slot in an open-loop schedule; 0 outside one.
    scheduled_ns: u64,
    received_ns: u64,
    /// The `x-gatehouse-delivery` header.
    delivery: u128,
}

struct Receiver {
    url: String,
    receipts: Mutex<Vec<Receipt>>,
    /// Messages received in all (verifications not counted).
    messages: AtomicU64,
    /// Messages without a parsable delivery header or payload.
    malformed: AtomicU64,
    verifications: AtomicU64,
    failed_verifications: AtomicU64,
    connections: AtomicU64,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct Message {
    payload: BenchPayload,
}

#[derive(Deserialize)]
struct BenchPayload {
    seq: u64,
    sent_ns: u64,
    #[serde(default)]
    scheduled_ns: u64,
}

#[derive(Deserialize)]
struct VerifyMessage {
    payload: VerifyPayload,
}

#[derive(Deserialize)]
struct VerifyPayload {
    callback: String,
}

impl Receiver {
    async fn start() -> Arc<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let receiver = Arc::new(Self {
            url,
            receipts: Mutex::new(Vec::new()),
            messages: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            verifications: AtomicU64::new(0),
            failed_verifications: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        });
        let counting = receiver.clone();
        let listener = listener.tap_io(move |socket| {
            counting.connections.fetch_add(1, Ordering::Relaxed);
            let _ = socket.set_nodelay(true);
        });
        let app = axum::Router::new()
            .route("/hook/{webhook}", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn take_receipts(&self) -> Vec<Receipt> {
        std::mem::take(&mut *self.receipts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Waits until `count` messages arrived after `base` (the `messages` count at the phase's
    /// start), or until none arrived for `STALL_TIMEOUT`; then listens `SETTLE` more.
    async fn wait_for(&self, base: u64, count: u64) -> bool {
        let mut last = self.messages.load(Ordering::Relaxed);
        let mut last_progress = Instant::now();
        loop {
            let now = self.messages.load(Ordering::Relaxed);
            if now - base >= count {
                tokio::time::sleep(SETTLE).await;
                return true;
            }
            if now != last {
                last = now;
                last_progress = Instant::now();
            } else if last_progress.elapsed() > STALL_TIMEOUT {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Answers 200 at once; records bench messages, and calls back verification URLs.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    Path(webhook): Path<u32>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received_ns = now_ns();
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    // A signed message's claims hold the message's keys (read, not verified: the receiver must
    // not compete with the signer for the bench machine's CPU).
    let body = if header("content-type") == Some("application/jwt") {
        use base64::Engine;
        let claims = body.split(|byte| *byte == b'.').nth(1).unwrap_or_default();
        Bytes::from(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap_or_default(),
        )
    } else {
        body
    };
    if header("x-gatehouse-event") == Some("webhook.verify") {
        receiver.verifications.fetch_add(1, Ordering::Relaxed);
        match serde_json::from_slice::<VerifyMessage>(&body) {
            Ok(message) => {
                let receiver = receiver.clone();
                tokio::spawn(async move {
                    let answer = receiver.client.get(&message.payload.callback).send().await;
                    if !answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                        receiver
                            .failed_verifications
                            .fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            Err(_) => {
                receiver
                    .failed_verifications
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        return StatusCode::OK;
    }
    let delivery = header("x-gatehouse-delivery").and_then(|text| uuid::Uuid::parse_str(text).ok());
    match (delivery, serde_json::from_slice::<Message>(&body)) {
        (Some(delivery), Ok(message)) => {
            receiver
                .receipts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Receipt {
                    webhook,
                    seq: message.payload.seq,
                    sent_ns: message.payload.sent_ns,
                    scheduled_ns: message.payload.scheduled_ns,
                    received_ns,
                    delivery: delivery.as_u128(),
                });
        }
        _ => {
            receiver.malformed.fetch_add(1, Ordering::Relaxed);
        }
    }
    receiver.messages.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

// ---------------------------------------------------------------------------------------------
// The database, the server and the worker.

/// A running delivery worker and the way to stop it.
struct RunningWorker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    fn start(services: &Services, settings: &WorkerSettings) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(worker::run(services.clone(), settings.clone(), shutdown));
        Self { stop, task }
    }

    /// Stops it; attempts in flight finish and are recorded first.
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// An account with an administrator's token and `fanout` verified webhooks at the receiver.
struct Tenant {
    account: Account,
    token: String,
    principal: Principal,
    fanout: usize,
}

async fn tenant(services: &Services, receiver: &Receiver, fanout: usize) -> Tenant {
    let account_id = format!("bench-{fanout}-{}", Utc::now().timestamp_micros());
    let account = seed::account(services, &account_id, "Bench").await;
    let roles = ["account_administrator"];
    let admin = seed::person(services, &account, "Admin", "admin@bench.example", &roles).await;
    let token = seed::token(services, &account, &admin, "bench", ["events:write"], 30).await;
    let principal = services
        .authenticate(&token, None)
        .await
        .expect("authenticates");
    // With GATEHOUSE_BENCH_JWT_ALG, every webhook is linked to a policy of that algorithm: each
    // attempt is then signed (a compact JWS) before it is sent.
    let policy = match std::env::var("GATEHOUSE_BENCH_JWT_ALG") {
        Ok(algorithm) if !algorithm.is_empty() => {
            let (policy, _) = services
                .create_webhook_policy(
                    &account,
                    None,
                    NewWebhookPolicy {
                        name: Some(format!("bench {algorithm}")),
                        jwt_alg: algorithm,
                        jwt_audience: Some("https://receiver.bench".to_owned()),
                        ..NewWebhookPolicy::default()
                    },
                )
                .await
                .expect("webhook policy");
            Some(policy.id)
        }
        _ => None,
    };
    let mut webhooks: Vec<WebhookId> = Vec::new();
    for index in 0..fanout {
        let webhook = services
            .create_webhook(
                &account,
                None,
                NewWebhook {
                    name: Some(format!("bench {index}")),
                    event: "bench.*".to_owned(),
                    uri: format!("{}/hook/{index}", receiver.url),
                    webhook_policy_id: policy,
                    ..NewWebhook::default()
                },
            )
            .await
            .expect("create webhook");
        webhooks.push(webhook.webhook.id);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in webhooks {
        loop {
            let webhook = services
                .store
                .webhook(&account.id, id)
                .await
                .expect("read webhook")
                .expect("webhook");
            if webhook.verified_at.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "webhook {id} was not verified within 30 s ({} verification messages, {} failed callbacks)",
                receiver.verifications.load(Ordering::Relaxed),
                receiver.failed_verifications.load(Ordering::Relaxed),
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Tenant {
        account,
        token,
        principal,
        fanout,
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring the process and the machine.

/// CPU time (clock ticks) of this process's threads, PostgreSQL's processes and the machine.
#[derive(Clone, Copy, Default)]
struct CpuTimes {
    process: u64,
    sqlite_threads: u64,
    postgres: u64,
    machine_busy: u64,
    at: Option<Instant>,
}

/// The clock ticks `/proc/.../stat` counts in (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// `utime + stime` and the command name from a `/proc/.../stat` line.
fn stat_ticks(text: &str) -> Option<(String, u64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_owned();
    let fields: Vec<&str> = text[close + 2..].split_whitespace().collect();
    // After the name: state is field 3, utime field 14 and stime field 15 (1-based, man proc).
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((name, user + system))
}

fn cpu_times() -> CpuTimes {
    let mut times = CpuTimes {
        at: Some(Instant::now()),
        ..CpuTimes::default()
    };
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let Ok(text) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            if let Some((name, ticks)) = stat_ticks(&text) {
                times.process += ticks;
                if name.starts_with("sqlx-sqlite") {
                    times.sqlite_threads += ticks;
                }
            }
        }
    }
    if let Ok(processes) = std::fs::read_dir("/proc") {
        for process in processes.flatten() {
            if !process
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|byte| byte.is_ascii_digit())
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(process.path().join("stat")) else {
                continue;
            };
            if let Some((name, ticks)) = stat_ticks(&text)
                && name == "postgres"
            {
                times.postgres += ticks;
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string("/proc/stat")
        && let Some(line) = text.lines().next()
    {
        let values: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|value| value.parse().ok())
            .collect();
        let total: u64 = values.iter().take(8).sum();
        let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
        times.machine_busy = total - idle;
    }
    times
}

/// Cores used between two readings.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    process: f64,
    sqlite_threads: f64,
    postgres: f64,
    machine: f64,
}

impl CpuUse {
    fn between(before: CpuTimes, after: CpuTimes) -> Self {
        let seconds = match (before.at, after.at) {
            (Some(start), Some(end)) => (end - start).as_secs_f64().max(1e-3),
            _ => return Self::default(),
        };
        let cores =
            |from: u64, to: u64| to.saturating_sub(from) as f64 / TICKS_PER_SECOND / seconds;
        Self {
            process: cores(before.process, after.process),
            sqlite_threads: cores(before.sqlite_threads, after.sqlite_threads),
            postgres: cores(before.postgres, after.postgres),
            // /proc/stat counts every core's ticks at USER_HZ too.
            machine: cores(before.machine_busy, after.machine_busy),
        }
    }

    fn describe(&self, backend: &str) -> String {
        if backend == "sqlite" {
            format!(
                "{:.2} ({:.2} SQLite) / {:.2}",
                self.process, self.sqlite_threads, self.machine
            )
        } else {
            format!(
                "{:.2} / {:.2} PG / {:.2}",
                self.process, self.postgres, self.machine
            )
        }
    }
}

/// `VmHWM` and `VmRSS` of this process, in MiB.
fn memory_mib() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so each phase reports its own peak.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

// ---------------------------------------------------------------------------------------------
// Where the database time goes (GATEHOUSE_BENCH_SQL_PROFILE).

#[derive(Default)]
struct StatementTime {
    count: u64,
    total_secs: f64,
    max_secs: f64,
    rows: u64,
    samples: Vec<f64>,
}

/// Sums sqlx's per-statement log events (`sqlx::query`, debug) by statement.
#[derive(Clone, Default)]
struct SqlProfile {
    statements: Arc<Mutex<HashMap<String, StatementTime>>>,
}

impl SqlProfile {
    fn take(&self) -> Vec<(String, StatementTime)> {
        let mut statements: Vec<(String, StatementTime)> = self
            .statements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        statements.sort_by(|a, b| b.1.total_secs.total_cmp(&a.1.total_secs));
        statements
    }
}

#[derive(Default)]
struct StatementVisitor {
    summary: String,
    statement: String,
    elapsed_secs: f64,
    rows: u64,
}

impl tracing::field::Visit for StatementVisitor {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if matches!(field.name(), "rows_affected" | "rows_returned") {
            self.rows += value;
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SqlProfile {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = StatementVisitor::default();
        event.record(&mut visitor);
        // The first words of the statement name it well enough (the summary has only four).
        let key = if visitor.statement.trim().is_empty() {
            visitor.summary
        } else {
            visitor
                .statement
                .split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut statements = self.statements.lock().unwrap_or_else(|p| p.into_inner());
        let entry = statements.entry(key).or_default();
        entry.count += 1;
        entry.total_secs += visitor.elapsed_secs;
        entry.max_secs = entry.max_secs.max(visitor.elapsed_secs);
        entry.rows += visitor.rows;
        entry.samples.push(visitor.elapsed_secs);
    }
}

fn init_logging() -> Option<SqlProfile> {
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("GATEHOUSE_LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned());
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(
            tracing_subscriber::EnvFilter::try_new(&filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        );
    let profile = std::env::var_os("GATEHOUSE_BENCH_SQL_PROFILE").map(|_| SqlProfile::default());
    let profile_layer = profile.clone().map(|profile| {
        profile.with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("sqlx::query", tracing::Level::TRACE),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(profile_layer)
        .try_init();
    profile
}

// ---------------------------------------------------------------------------------------------
// Publishing.

#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    p50: f64,
    p99: f64,
    max: f64,
}

/// Percentiles of samples in nanoseconds, as milliseconds.
fn summarize(mut samples: Vec<u64>) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    samples.sort_unstable();
    Summary {
        p50: millis(percentile(&samples, 50)),
        p99: millis(percentile(&samples, 99)),
        max: millis(samples[samples.len() - 1]),
    }
}

fn thousands(value: f64) -> String {
    let rounded = value.round() as u64;
    let digits = rounded.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The server, its services, the client, the receiver and a source of sequence numbers.
struct Bench {
    base_url: String,
    services: Services,
    client: reqwest::Client,
    receiver: Arc<Receiver>,
    profile: Option<SqlProfile>,
    next_seq: AtomicU64,
}

/// What one `POST /v1/events` came to.
struct Publish {
    seq: u64,
    /// 202, or the failure.
    accepted: Result<(), String>,
    sent_ns: u64,
    answered_ns: u64,
}

impl Bench {
    fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    async fn publish(&self, token: &str, seq: u64, scheduled_ns: u64) -> Publish {
        let sent_ns = now_ns();
        let body = format!(
            r#"{{"event":"{EVENT}","object_id":"e{seq}","payload":{{"seq":{seq},"sent_ns":{sent_ns},"scheduled_ns":{scheduled_ns}}}}}"#
        );
        let result = self
            .client
            .post(format!("{}/v1/events", self.base_url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let accepted = match result {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status == StatusCode::ACCEPTED {
                    Ok(())
                } else {
                    Err(format!("{status}: {}", &text[..text.len().min(300)]))
                }
            }
            Err(error) => Err(format!("request failed: {error}")),
        };
        Publish {
            seq,
            accepted,
            sent_ns,
            answered_ns: now_ns(),
        }
    }
}

/// What the receiver got for a phase, against what was published.
#[derive(Default)]
struct Delivered {
    expected: usize,
    unique: usize,
    /// The same delivery received again.
    resent: usize,
    /// An event reached a webhook twice under different deliveries.
    doubled: usize,
    missing: usize,
    /// Messages for events this phase did not publish (or webhooks it does not have).
    unexpected: usize,
    malformed: u64,
    first_ns: u64,
    last_ns: u64,
    /// Publish to receipt, per message.
    latency: Summary,
    /// Scheduled slot to receipt, per message (open-loop phases).
    latency_from_schedule: Summary,
    /// When each unique message arrived, in order.
    received_ns: Vec<u64>,
    /// When the store had recorded every attempt (nothing pending).
    recorded_ns: Option<u64>,
    complete: bool,
}

impl Delivered {
    fn deliveries_per_second(&self) -> f64 {
        let span = self.last_ns.saturating_sub(self.first_ns);
        if self.unique < 2 || span == 0 {
            return 0.0;
        }
        (self.unique - 1) as f64 / (span as f64 / 1e9)
    }

    /// Deliveries per second from the first receipt until every attempt was recorded.
    fn recorded_per_second(&self) -> Option<f64> {
        let span = self.recorded_ns?.saturating_sub(self.first_ns);
        (span > 0).then(|| self.unique as f64 / (span as f64 / 1e9))
    }

    fn verdict(&self) -> String {
        let recorded = match self.recorded_ns {
            Some(at) => format!(
                "recorded +{:.1} s",
                millis(at.saturating_sub(self.last_ns)) / 1e3
            ),
            None => format!(
                "✘ still pending {} s after the last receipt",
                RECORD_TIMEOUT.as_secs()
            ),
        };
        let delivered = self.delivery_verdict();
        format!("{delivered}, {recorded}")
    }

    fn delivery_verdict(&self) -> String {
        if self.unique == self.expected
            && self.resent == 0
            && self.doubled == 0
            && self.unexpected == 0
            && self.malformed == 0
        {
            format!("{} exactly once ✔", thousands(self.expected as f64))
        } else {
            format!(
                "✘ expected {}, got {} unique; {} resent, {} doubled, {} missing, {} unexpected, {} malformed",
                self.expected,
                self.unique,
                self.resent,
                self.doubled,
                self.missing,
                self.unexpected,
                self.malformed
            )
        }
    }
}

fn check(receipts: &[Receipt], published: &[u64], fanout: usize, malformed: u64) -> Delivered {
    let published: HashSet<u64> = published.iter().copied().collect();
    let mut pairs = HashSet::with_capacity(receipts.len());
    let mut deliveries = HashSet::with_capacity(receipts.len());
    let mut delivered = Delivered {
        expected: published.len() * fanout,
        malformed,
        first_ns: u64::MAX,
        ..Delivered::default()
    };
    let mut latency = Vec::with_capacity(receipts.len());
    let mut from_schedule = Vec::new();
    for receipt in receipts {
        if !published.contains(&receipt.seq) || receipt.webhook as usize >= fanout {
            delivered.unexpected += 1;
            continue;
        }
        if !deliveries.insert(receipt.delivery) {
            delivered.resent += 1;
            continue;
        }
        if !pairs.insert((receipt.webhook, receipt.seq)) {
            delivered.doubled += 1;
            continue;
        }
        delivered.first_ns = delivered.first_ns.min(receipt.received_ns);
        delivered.last_ns = delivered.last_ns.max(receipt.received_ns);
        latency.push(receipt.received_ns.saturating_sub(receipt.sent_ns));
        delivered.received_ns.push(receipt.received_ns);
        if receipt.scheduled_ns > 0 {
            from_schedule.push(receipt.received_ns.saturating_sub(receipt.scheduled_ns));
        }
    }
    delivered.unique = pairs.len();
    delivered.received_ns.sort_unstable();
    delivered.missing = delivered.expected.saturating_sub(delivered.unique);
    delivered.latency = summarize(latency);
    delivered.latency_from_schedule = summarize(from_schedule);
    if delivered.first_ns == u64::MAX {
        delivered.first_ns = 0;
    }
    delivered
}

/// Measurements of one phase beyond what was delivered.
struct PhaseEnd {
    cpu: CpuUse,
    peak_mib: f64,
    rss_mib: f64,
    /// Connections the receiver accepted during the phase.
    connections: u64,
    /// Where the database time went, with `GATEHOUSE_BENCH_SQL_PROFILE`.
    profile: Vec<(String, StatementTime)>,
}

struct Phase<'a> {
    receiver: &'a Receiver,
    services: &'a Services,
    profile: Option<&'a SqlProfile>,
    cpu_before: CpuTimes,
    messages_base: u64,
    malformed_base: u64,
    connections_base: u64,
}

impl<'a> Phase<'a> {
    fn begin(bench: &'a Bench) -> Self {
        reset_peak_memory();
        let profile = bench.profile.as_ref();
        if let Some(profile) = profile {
            profile.take();
        }
        let receiver = &*bench.receiver;
        Self {
            receiver,
            services: &bench.services,
            profile,
            cpu_before: cpu_times(),
            messages_base: receiver.messages.load(Ordering::Relaxed),
            malformed_base: receiver.malformed.load(Ordering::Relaxed),
            connections_base: receiver.connections.load(Ordering::Relaxed),
        }
    }

    /// Collects the phase's receipts and checks them against what was published, then waits
    /// until the worker has recorded every attempt (nothing pending in the store). Also returns
    /// the CPU times when the last message arrived.
    async fn collect(&self, published: &[u64], fanout: usize) -> (Delivered, CpuTimes) {
        let complete = self
            .receiver
            .wait_for(self.messages_base, (published.len() * fanout) as u64)
            .await;
        let cpu = cpu_times();
        let waited = Instant::now();
        let recorded_ns = self.wait_until_recorded().await;
        if let Some(rest) = SETTLE.checked_sub(waited.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        let receipts = self.receiver.take_receipts();
        let malformed = self.receiver.malformed.load(Ordering::Relaxed) - self.malformed_base;
        let mut delivered = check(&receipts, published, fanout, malformed);
        delivered.complete = complete;
        delivered.recorded_ns = recorded_ns;
        (delivered, cpu)
    }

    /// When the store had no pending delivery left, polled every 10 ms (`None`: not within
    /// `RECORD_TIMEOUT`).
    async fn wait_until_recorded(&self) -> Option<u64> {
        let deadline = Instant::now() + RECORD_TIMEOUT;
        while Instant::now() < deadline {
            let stats = self.services.store.queue_stats(Utc::now()).await;
            if stats.is_ok_and(|stats| stats.pending == 0) {
                return Some(now_ns());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    fn end(&self, cpu_after: CpuTimes) -> PhaseEnd {
        let (peak_mib, rss_mib) = memory_mib();
        PhaseEnd {
            cpu: CpuUse::between(self.cpu_before, cpu_after),
            peak_mib,
            rss_mib,
            connections: self.receiver.connections.load(Ordering::Relaxed) - self.connections_base,
            profile: self.profile.map(SqlProfile::take).unwrap_or_default(),
        }
    }
}

struct IngestResult {
    fanout: usize,
    events_per_second: f64,
    post: Summary,
    errors: Vec<String>,
    /// Deliveries received while the publishing lasted, per second.
    deliveries_per_second_during: f64,
    /// Deliveries not yet received when the publishing stopped.
    left_at_end: usize,
    /// From the end of the publishing to the last receipt.
    drain_after_secs: f64,
    delivered: Delivered,
    end: PhaseEnd,
}

/// `concurrency` connections publishing back to back for `seconds`, the worker running.
async fn ingest(bench: &Arc<Bench>, tenant: &Tenant, config: &Config) -> IngestResult {
    let phase = Phase::begin(bench);
    let started = Instant::now();
    let started_ns = now_ns();
    let deadline = started + Duration::from_secs(config.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..config.concurrency {
        let bench = bench.clone();
        let token = tenant.token.clone();
        tasks.spawn(async move {
            let mut publishes = Vec::new();
            while Instant::now() < deadline {
                let seq = bench.next_seq();
                publishes.push(bench.publish(&token, seq, 0).await);
            }
            publishes
        });
    }
    let mut publishes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        publishes.extend(done.expect("publisher"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ended_ns = now_ns();
    let cpu_after = cpu_times();
    let (published, post, errors) = sort_publishes(&publishes);
    let events_per_second = published.len() as f64 / elapsed;
    let (delivered, _) = phase.collect(&published, tenant.fanout).await;
    let end = phase.end(cpu_after);
    let during = received_between(&delivered, started_ns, ended_ns);
    IngestResult {
        fanout: tenant.fanout,
        events_per_second,
        post,
        errors,
        deliveries_per_second_during: during as f64 / elapsed,
        left_at_end: delivered.unique - during,
        drain_after_secs: millis(delivered.last_ns.saturating_sub(ended_ns)) / 1000.0,
        delivered,
        end,
    }
}

/// Unique receipts between two instants.
fn received_between(delivered: &Delivered, start_ns: u64, end_ns: u64) -> usize {
    let from = delivered.received_ns.partition_point(|&at| at < start_ns);
    let to = delivered.received_ns.partition_point(|&at| at <= end_ns);
    to - from
}

/// The accepted sequence numbers, the answer times and the distinct failures.
fn sort_publishes(publishes: &[Publish]) -> (Vec<u64>, Summary, Vec<String>) {
    let mut published = Vec::with_capacity(publishes.len());
    let mut answer_times = Vec::with_capacity(publishes.len());
    let mut errors: Vec<String> = Vec::new();
    for publish in publishes {
        match &publish.accepted {
            Ok(()) => {
                published.push(publish.seq);
                answer_times.push(publish.answered_ns.saturating_sub(publish.sent_ns));
            }
            Err(error) => {
                if errors.len() < 5 && !errors.contains(error) {
                    errors.push(error.clone());
                }
                if errors.len() == 5 {
                    errors.push("…".to_owned());
                }
            }
        }
    }
    let failed = publishes.len() - published.len();
    if failed > 0 {
        errors.insert(0, format!("{failed} publishes failed"));
    }
    (published, summarize(answer_times), errors)
}

struct BacklogResult {
    fanout: usize,
    events: usize,
    publish_secs: f64,
    delivered: Delivered,
    first_receipt_after_secs: f64,
    end: PhaseEnd,
}

/// Queues at least `config.backlog` deliveries with the worker stopped, then starts it and
/// measures the drain.
async fn backlog(
    bench: &Bench,
    tenant: &Tenant,
    config: &Config,
    worker: RunningWorker,
) -> (BacklogResult, RunningWorker) {
    let services = &bench.services;
    worker.stop().await;
    let events = config.backlog.div_ceil(tenant.fanout);
    let seqs: Vec<u64> = (0..events).map(|_| bench.next_seq()).collect();
    let started = Instant::now();
    let tasks_count = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..tasks_count {
        let services = services.clone();
        let account = tenant.account.clone();
        let principal = tenant.principal.clone();
        let mine: Vec<u64> = seqs
            .iter()
            .copied()
            .skip(task)
            .step_by(tasks_count)
            .collect();
        tasks.spawn(async move {
            for seq in mine {
                let sent_ns = now_ns();
                services
                    .publish_event(
                        &account,
                        Some(&principal),
                        PublishEvent {
                            event: EVENT.to_owned(),
                            object_id: format!("e{seq}"),
                            payload: serde_json::json!({ "seq": seq, "sent_ns": sent_ns }),
                        },
                        None,
                    )
                    .await
                    .expect("publish");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("publisher");
    }
    let publish_secs = started.elapsed().as_secs_f64();
    let phase = Phase::begin(bench);
    let worker_started_ns = now_ns();
    let worker = RunningWorker::start(services, &config.worker);
    let (mut delivered, cpu_after) = phase.collect(&seqs, tenant.fanout).await;
    let end = phase.end(cpu_after);
    let first_receipt_after_secs =
        millis(delivered.first_ns.saturating_sub(worker_started_ns)) / 1e3;
    // Latency from publishing means nothing here: the events waited for the worker.
    delivered.latency = Summary::default();
    (
        BacklogResult {
            fanout: tenant.fanout,
            events,
            publish_secs,
            delivered,
            first_receipt_after_secs,
            end,
        },
        worker,
    )
}

struct LatencyResult {
    fanout: usize,
    rate: u32,
    attempted: usize,
    late: usize,
    achieved_per_second: f64,
    post: Summary,
    errors: Vec<String>,
    delivered: Delivered,
    end: PhaseEnd,
}

/// Publishes at `rate` events per second on a fixed schedule for `config.latency_seconds`,
/// never waiting for an answer before the next slot (at most `config.max_connections` in
/// flight).
async fn latency(bench: &Arc<Bench>, tenant: &Tenant, config: &Config, rate: u32) -> LatencyResult {
    let phase = Phase::begin(bench);
    let total = (u64::from(rate) * config.latency_seconds).min(LATENCY_MAX_EVENTS) as usize;
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let interval_ns = 1e9 / f64::from(rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let start_ns = now_ns() + 20_000_000;
    let mut tasks = tokio::task::JoinSet::new();
    let mut late = 0;
    for index in 0..total {
        let offset = Duration::from_nanos((index as f64 * interval_ns) as u64);
        tokio::time::sleep_until(start + offset).await;
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let scheduled_ns = start_ns + offset.as_nanos() as u64;
        if now_ns().saturating_sub(scheduled_ns) > LATE_AFTER.as_nanos() as u64 {
            late += 1;
        }
        let bench = bench.clone();
        let token = tenant.token.clone();
        tasks.spawn(async move {
            let seq = bench.next_seq();
            let publish = bench.publish(&token, seq, scheduled_ns).await;
            drop(permit);
            publish
        });
    }
    let last_send_ns = now_ns();
    let mut publishes = Vec::with_capacity(total);
    while let Some(done) = tasks.join_next().await {
        publishes.push(done.expect("publisher"));
    }
    let cpu_after = cpu_times();
    let first_send = publishes
        .iter()
        .map(|p| p.sent_ns)
        .min()
        .unwrap_or(start_ns);
    let achieved_per_second = (total.max(1) - 1) as f64
        / (last_send_ns.saturating_sub(first_send) as f64 / 1e9).max(1e-9);
    let (published, post, errors) = sort_publishes(&publishes);
    let (delivered, _) = phase.collect(&published, tenant.fanout).await;
    let end = phase.end(cpu_after);
    LatencyResult {
        fanout: tenant.fanout,
        rate,
        attempted: total,
        late,
        achieved_per_second,
        post,
        errors,
        delivered,
        end,
    }
}

// ---------------------------------------------------------------------------------------------
// One backend.

struct Report {
    backend: String,
    ingest: Vec<IngestResult>,
    backlog: Vec<BacklogResult>,
    latency: Vec<LatencyResult>,
    pending_at_end: u64,
    rss_after_mib: f64,
}

async fn run_backend(backend: &str, config: &Config, profile: Option<SqlProfile>) -> Report {
    eprintln!("== {backend}");
    let database = Database::open(backend).await;
    let (listener, base_url) = server::bind().await;
    let services = Services::new(database.store.clone(), Arc::new(SystemClock))
        .with_base_url(&base_url)
        .with_sender(SenderSettings {
            max_idle_per_host: config.sender_idle_per_host,
            ..server::local_sender()
        });
    let server = server::serve(listener, &services, &base_url);
    let (stop_upkeep, upkeep_shutdown) = watch::channel(false);
    let upkeep = tokio::spawn(worker::run_upkeep(services.clone(), None, upkeep_shutdown));
    let mut worker = RunningWorker::start(&services, &config.worker);
    let bench = Arc::new(Bench {
        base_url,
        services: services.clone(),
        client: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(config.max_connections.max(config.concurrency))
            .build()
            .expect("client"),
        receiver: Receiver::start().await,
        profile,
        next_seq: AtomicU64::new(1),
    });
    let mut report = Report {
        backend: backend.to_owned(),
        ingest: Vec::new(),
        backlog: Vec::new(),
        latency: Vec::new(),
        pending_at_end: 0,
        rss_after_mib: 0.0,
    };
    for &fanout in &config.fanouts {
        let tenant = tenant(&services, &bench.receiver, fanout).await;
        if config.runs("ingest") {
            eprintln!("  fan-out {fanout}: ingest, {} s", config.seconds);
            report.ingest.push(ingest(&bench, &tenant, config).await);
        }
        if config.runs("backlog") {
            eprintln!(
                "  fan-out {fanout}: backlog of {} deliveries",
                config.backlog
            );
            let (result, restarted) = backlog(&bench, &tenant, config, worker).await;
            worker = restarted;
            report.backlog.push(result);
        }
        if config.runs("latency") {
            database
                .vacuum_analyze(&["events", "webhook_deliveries", "webhook_delivery_attempts"])
                .await;
            for &rate in &config.rates {
                eprintln!("  fan-out {fanout}: {rate} events/s");
                report
                    .latency
                    .push(latency(&bench, &tenant, config, rate).await);
            }
        }
    }
    worker.stop().await;
    let _ = stop_upkeep.send(true);
    let _ = upkeep.await;
    report.pending_at_end = services
        .store
        .queue_stats(Utc::now())
        .await
        .expect("queue stats")
        .pending;
    report.rss_after_mib = memory_mib().1;
    server.abort();
    drop(services);
    database.finish().await;
    report
}

/// The columns every phase's row ends with: receiver connections, CPU, memory, and the check.
fn closing_columns(end: &PhaseEnd, delivered: &Delivered, backend: &str) -> String {
    format!(
        "{} | {} | {} | {}",
        thousands(end.connections as f64),
        end.cpu.describe(backend),
        memory(end),
        delivered.verdict()
    )
}

/// Peak RSS of the phase / RSS at its end.
fn memory(end: &PhaseEnd) -> String {
    format!("{:.0} / {:.0} MiB", end.peak_mib, end.rss_mib)
}

fn print_report(report: &Report, config: &Config) {
    let backend = report.backend.as_str();
    let cpu_header = if backend == "sqlite" {
        "CPU cores: process (SQLite threads) / machine"
    } else {
        "CPU cores: process / PostgreSQL / machine"
    };
    let mut profiles: Vec<(String, &PhaseEnd)> = Vec::new();
    println!("\n### {backend}\n");
    if !report.ingest.is_empty() {
        println!(
            "Ingest: `POST /v1/events` from {} keep-alive connections for {} s, the worker delivering meanwhile.\n",
            config.concurrency, config.seconds
        );
        println!(
            "| Fan-out | events/s accepted | POST p50 / p99 | deliveries/s meanwhile | left at the end, delivered in | receiver connections | {cpu_header} | RSS peak / end | check |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in &report.ingest {
            println!(
                "| {} | {} | {} / {} | {} | {}, {:.1} s | {} |",
                row.fanout,
                thousands(row.events_per_second),
                ms(row.post.p50),
                ms(row.post.p99),
                thousands(row.deliveries_per_second_during),
                thousands(row.left_at_end as f64),
                row.drain_after_secs.max(0.0),
                closing_columns(&row.end, &row.delivered, backend)
            );
            for error in &row.errors {
                println!("\n  - {error}");
            }
            profiles.push((format!("ingest, fan-out {}", row.fanout), &row.end));
        }
        println!();
    }
    if !report.backlog.is_empty() {
        println!(
            "Backlog: deliveries queued with the worker stopped (through `Services::publish_event`, 8 tasks), then drained by one worker.\n"
        );
        println!(
            "| Fan-out | events queued (events/s) | deliveries/s (first → last receipt) | deliveries/s recorded | first receipt after start | receiver connections | {cpu_header} | RSS peak / end | check |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in &report.backlog {
            println!(
                "| {} | {} ({}) | **{}** over {:.1} s | {} | {} | {} |",
                row.fanout,
                thousands(row.events as f64),
                thousands(row.events as f64 / row.publish_secs),
                thousands(row.delivered.deliveries_per_second()),
                millis(row.delivered.last_ns.saturating_sub(row.delivered.first_ns)) / 1e3,
                row.delivered
                    .recorded_per_second()
                    .map_or_else(|| "—".to_owned(), thousands),
                ms(row.first_receipt_after_secs * 1e3),
                closing_columns(&row.end, &row.delivered, backend)
            );
            profiles.push((format!("backlog, fan-out {}", row.fanout), &row.end));
        }
        println!();
    }
    if !report.latency.is_empty() {
        println!(
            "Latency: publish (client send) → receipt, open loop for {} s per rate (late: sent > {} ms after its slot).\n",
            config.latency_seconds,
            LATE_AFTER.as_millis()
        );
        println!(
            "| Fan-out | events/s target (achieved) | late | POST p50 / p99 | delivery p50 | **p99** | max | p99 from the slot | receiver connections | {cpu_header} | RSS peak / end | check |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for row in &report.latency {
            println!(
                "| {} | {} ({}) | {} of {} | {} / {} | {} | **{}** | {} | {} | {} |",
                row.fanout,
                thousands(f64::from(row.rate)),
                thousands(row.achieved_per_second),
                thousands(row.late as f64),
                thousands(row.attempted as f64),
                ms(row.post.p50),
                ms(row.post.p99),
                ms(row.delivered.latency.p50),
                ms(row.delivered.latency.p99),
                ms(row.delivered.latency.max),
                ms(row.delivered.latency_from_schedule.p99),
                closing_columns(&row.end, &row.delivered, backend)
            );
            for error in &row.errors {
                println!("\n  - {error}");
            }
            profiles.push((
                format!("{} events/s, fan-out {}", row.rate, row.fanout),
                &row.end,
            ));
        }
        println!();
    }
    println!(
        "Pending deliveries at the end: {}. RSS after the run: {:.0} MiB.",
        report.pending_at_end, report.rss_after_mib
    );
    for (name, end) in profiles {
        if end.profile.is_empty() {
            continue;
        }
        let total: f64 = end.profile.iter().map(|(_, time)| time.total_secs).sum();
        println!("\nDatabase time, {name}: {total:.2} s in all\n");
        println!("| Statement | count | total | p50 | p99 | max | rows |");
        println!("|---|---|---|---|---|---|---|");
        for (statement, time) in end.profile.iter().take(12) {
            let mut samples = time.samples.clone();
            samples.sort_by(f64::total_cmp);
            let rank =
                |percent: usize| samples[(samples.len() * percent).div_ceil(100).max(1) - 1] * 1e3;
            println!(
                "| `{}` | {} | {:.2} s | {} | {} | {} | {} |",
                statement.replace('|', "\\|"),
                time.count,
                time.total_secs,
                ms(rank(50)),
                ms(rank(99)),
                ms(time.max_secs * 1e3),
                time.rows
            );
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    now_ns();
    let config = Config::from_env();
    let profile = init_logging();
    let backends = settings::backends();
    let runtime = server::runtime();
    for backend in &backends {
        let report = runtime.block_on(run_backend(backend, &config, profile.clone()));
        print_report(&report, &config);
    }
}
