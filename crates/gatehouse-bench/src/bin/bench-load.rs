//! The load generator of `scripts/bench-delivery`, in a process of its own. Each command prints
//! one JSON object on stdout when done.
//!
//! - `publish`: `POST /v1/events` of the bench event, numbered 0 to events − 1, each payload
//!   carrying its send time. Closed loop by default (`--connections` requests in flight, each
//!   sent as soon as the previous one is answered); with `--rate` open loop: event i is sent at
//!   start + i / rate whether or not earlier ones were answered, as independent clients would.
//! - `loopback`: the same message bytes POSTed to the receiver over `--connections` keep-alive
//!   connections for `--seconds`: the requests/s one client can push through loopback to that
//!   receiver on this machine, the ceiling for deliveries/s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use gatehouse_bench::{EVENT, summarize};
use serde_json::json;
use tokio::sync::Semaphore;

#[derive(Parser)]
#[command(about = "The load generator of scripts/bench-delivery")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Publish bench events through `POST /v1/events`.
    Publish {
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// A token with `events:write`.
        #[arg(long, env = "BENCH_TOKEN", hide_env_values = true)]
        token: String,
        /// The account (sent as `X-Gatehouse-Account`).
        #[arg(long)]
        account: String,
        /// Events to publish (closed loop).
        #[arg(long, default_value_t = 5000)]
        events: u64,
        /// Requests in flight at once (closed loop) or at most (open loop).
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Open loop: events per second, for `--seconds` (replaces `--events`).
        #[arg(long)]
        rate: Option<u64>,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Pad each event's payload with a string of this many bytes (a real event's size).
        #[arg(long, default_value_t = 0)]
        payload_bytes: usize,
    },
    /// POST one message's bytes to the receiver as fast as it takes them.
    Loopback {
        /// The receiver's loopback URL, e.g. http://127.0.0.1:9000/loopback.
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client")
}

/// The outcome of one `POST /v1/events`.
struct Publish {
    accepted: bool,
    error: Option<String>,
    /// Send → answer.
    took_ns: u64,
    /// Sent more than 10 ms after its slot (open loop only).
    late: bool,
}

/// What pads every payload (`--payload-bytes`).
static PAD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn publish_one(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    account: &str,
    seq: u64,
) -> Publish {
    let sent_ns = gatehouse_bench::now_ns();
    let started = Instant::now();
    let mut body = json!({
        "event": EVENT,
        "object_id": format!("e{seq}"),
        "payload": { "seq": seq, "sent_ns": sent_ns },
    });
    if let Some(pad) = PAD.get().filter(|pad| !pad.is_empty()) {
        body["payload"]["pad"] = json!(pad);
    }
    let answer = client
        .post(endpoint)
        .bearer_auth(token)
        .header("x-gatehouse-account", account)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await;
    let (accepted, error) = match answer {
        Ok(answer) => {
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            if status == reqwest::StatusCode::ACCEPTED {
                (true, None)
            } else {
                (
                    false,
                    Some(format!("{status}: {}", &text[..text.len().min(300)])),
                )
            }
        }
        Err(error) => (false, Some(format!("request failed: {error}"))),
    };
    Publish {
        accepted,
        error,
        took_ns: started.elapsed().as_nanos() as u64,
        late: false,
    }
}

async fn publish(
    url: String,
    token: String,
    account: String,
    events: u64,
    connections: usize,
    rate: Option<u64>,
    seconds: f64,
) -> serde_json::Value {
    let client = client();
    let endpoint = Arc::new(format!("{url}/v1/events"));
    let (token, account) = (Arc::new(token), Arc::new(account));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let events = match rate {
        // Open loop: one task per event, started on schedule; the semaphore only bounds the
        // requests in flight if the server falls far behind (such events count as late).
        Some(rate) => {
            let events = (rate as f64 * seconds).round() as u64;
            let in_flight = Arc::new(Semaphore::new(connections));
            for seq in 0..events {
                let slot = started + Duration::from_secs_f64(seq as f64 / rate as f64);
                tokio::time::sleep_until(slot.into()).await;
                let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
                let late = slot.elapsed() > Duration::from_millis(10);
                let (client, endpoint) = (client.clone(), endpoint.clone());
                let (token, account) = (token.clone(), account.clone());
                tasks.spawn(async move {
                    let mut outcome = publish_one(&client, &endpoint, &token, &account, seq).await;
                    outcome.late = late;
                    drop(permit);
                    vec![outcome]
                });
            }
            events
        }
        // Closed loop: `connections` tasks take the next number until all are sent.
        None => {
            let next = Arc::new(AtomicU64::new(0));
            for _ in 0..connections {
                let (client, endpoint, next) = (client.clone(), endpoint.clone(), next.clone());
                let (token, account) = (token.clone(), account.clone());
                tasks.spawn(async move {
                    let mut outcomes = Vec::new();
                    loop {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if seq >= events {
                            return outcomes;
                        }
                        outcomes.push(publish_one(&client, &endpoint, &token, &account, seq).await);
                    }
                });
            }
            events
        }
    };
    let mut outcomes = Vec::with_capacity(events as usize);
    while let Some(done) = tasks.join_next().await {
        outcomes.extend(done.expect("a publishing task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = outcomes.iter().filter(|outcome| outcome.accepted).count();
    let first_error = outcomes.iter().find_map(|outcome| outcome.error.clone());
    let post = summarize(outcomes.iter().map(|outcome| outcome.took_ns).collect());
    json!({
        "events": events,
        "accepted": accepted,
        "failed": outcomes.len() - accepted,
        "first_error": first_error,
        "late": outcomes.iter().filter(|outcome| outcome.late).count(),
        "seconds": elapsed,
        "per_second": accepted as f64 / elapsed,
        "post": post,
    })
}

/// A typical message: the envelope and headers `gatehouse serve` sends for a bench event
/// (README, "The message"), the same bytes every time.
const MESSAGE: &str = r#"{"account":"http://127.0.0.1:8080/accounts/bench","account_id":"bench","custom_url":"http://127.0.0.1:8080","event":"bench.delivery","instance_name":"gatehouse","name":"bench-0","object_id":"e1042","object_nodeID":"YmVuY2gvZTEwNDI","payload":{"seq":1042,"sent_ns":1796000000000000000},"person_id":"01a22743-4b1d-70df-890d-b6998bcd04c2","person_name":"Bench","webhook_id":"01a22743-4b3c-715e-96c0-392e0433dc9a","webhook_nodeID":"V2ViaG9vay8wMWEyMjc0My00YjNjLTcxNWUtOTZjMC0zOTJlMDQzM2RjOWE"}"#;
const HEADERS: [(&str, &str); 9] = [
    ("content-type", "application/json"),
    ("user-agent", "Gatehouse-Webhooks/0.1.0"),
    (
        "x-gatehouse-delivery",
        "01a22744-0000-7000-8000-000000000001",
    ),
    ("x-gatehouse-event", "bench.delivery"),
    ("x-gatehouse-attempt", "1"),
    (
        "x-gatehouse-webhook",
        "01a22743-4b3c-715e-96c0-392e0433dc9a",
    ),
    ("webhook-id", "01a22744-0000-7000-8000-000000000001"),
    ("webhook-timestamp", "1796000000"),
    (
        "webhook-signature",
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    ),
];

async fn loopback(url: String, connections: usize, seconds: f64) -> serde_json::Value {
    let client = client();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            while Instant::now() < deadline {
                let mut request = client.post(&url).body(MESSAGE);
                for (name, value) in HEADERS {
                    request = request.header(name, value);
                }
                match request.send().await {
                    Ok(answer) if answer.status().is_success() => {
                        // Read the (empty) body so the connection goes back to the pool.
                        let _ = answer.bytes().await;
                        ok += 1;
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed)
        });
    }
    let (mut ok, mut failed) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (task_ok, task_failed) = done.expect("a loopback task");
        ok += task_ok;
        failed += task_failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    json!({
        "requests": ok,
        "failed": failed,
        "seconds": elapsed,
        "per_second": ok as f64 / elapsed,
        "body_bytes": MESSAGE.len(),
    })
}

#[tokio::main]
async fn main() {
    // reqwest is built without a default TLS provider (as in gatehouse); the targets are plain
    // http, but the client wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = match Args::parse().command {
        Command::Publish {
            url,
            token,
            account,
            events,
            connections,
            rate,
            seconds,
            payload_bytes,
        } => {
            PAD.set("x".repeat(payload_bytes)).expect("set once");
            publish(url, token, account, events, connections, rate, seconds).await
        }
        Command::Loopback {
            url,
            connections,
            seconds,
        } => loopback(url, connections, seconds).await,
    };
    println!("{result}");
}
