//! The webhook receiver of `scripts/bench-delivery`, in a process of its own.
//!
//! It answers every message 200 at once with an empty body, over keep-alive connections, and:
//!
//! - `POST /hook/{webhook}`: a `webhook.verify` message has its callback URL called (so the
//!   webhook becomes verified, as the owner of a real endpoint would do it); any other message
//!   is recorded — its `X-Gatehouse-Delivery` id, the `seq` and `sent_ns` of its payload, and the
//!   time it arrived. Signatures are not checked: the receiver should not compete with the
//!   server for the machine's CPU.
//! - `POST /loopback`: the same parsing, recorded apart; `bench-load loopback` sends here to
//!   measure what the receiver and the loopback interface can take at all.
//! - `GET /progress`: counters, cheap enough to poll every few milliseconds.
//! - `GET /report?events=E&webhooks=W`: the recorded messages checked against E events to W
//!   webhooks ([`Tally`]: distinct, duplicated, missing …, first/last receipt, latency).
//!
//! It prints `listening http://127.0.0.1:PORT` as its first line, so a script can find it.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use clap::Parser;
use gatehouse_bench::{BenchPayload, Receipt, Tally, now_ns};
use serde::Deserialize;

#[derive(Parser)]
#[command(about = "The webhook receiver of scripts/bench-delivery")]
struct Args {
    /// Address to listen on; port 0 picks a free one (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

/// Messages received on one route.
#[derive(Default)]
struct Bucket {
    receipts: Mutex<Vec<Receipt>>,
    /// Messages recorded (duplicates included; verifications and malformed ones not).
    messages: AtomicU64,
}

#[derive(Default)]
struct Receiver {
    hooks: Bucket,
    loopback: Bucket,
    /// Messages without a delivery id or bench payload.
    malformed: AtomicU64,
    verifications: AtomicU64,
    failed_verifications: AtomicU64,
    /// TCP connections accepted: few, if the server keeps its connections alive.
    connections: AtomicU64,
    client: reqwest::Client,
}

/// The parts of a message the receiver reads (the envelope's other keys are skipped).
#[derive(Deserialize)]
struct Message {
    payload: serde_json::Value,
}

enum Parsed {
    Verify {
        callback: String,
    },
    Bench {
        delivery: u128,
        payload: BenchPayload,
    },
    Malformed,
}

fn parse(headers: &HeaderMap, body: &[u8]) -> Parsed {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let Ok(message) = serde_json::from_slice::<Message>(body) else {
        return Parsed::Malformed;
    };
    if header("x-gatehouse-event") == Some("webhook.verify") {
        return match message.payload.get("callback").and_then(|url| url.as_str()) {
            Some(callback) => Parsed::Verify {
                callback: callback.to_owned(),
            },
            None => Parsed::Malformed,
        };
    }
    let delivery = header("x-gatehouse-delivery").and_then(|id| uuid::Uuid::parse_str(id).ok());
    match (
        delivery,
        serde_json::from_value::<BenchPayload>(message.payload),
    ) {
        (Some(delivery), Ok(payload)) => Parsed::Bench {
            delivery: delivery.as_u128(),
            payload,
        },
        _ => Parsed::Malformed,
    }
}

impl Receiver {
    /// Handles one message for `bucket`; `webhook` is the number in the path.
    fn receive(self: &Arc<Self>, bucket: &Bucket, webhook: u32, headers: &HeaderMap, body: &[u8]) {
        let received_ns = now_ns();
        match parse(headers, body) {
            Parsed::Bench { delivery, payload } => {
                let receipt = Receipt {
                    webhook,
                    seq: payload.seq,
                    sent_ns: payload.sent_ns,
                    received_ns,
                    delivery,
                };
                bucket
                    .receipts
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(receipt);
                bucket.messages.fetch_add(1, Ordering::Relaxed);
            }
            Parsed::Verify { callback } => {
                self.verifications.fetch_add(1, Ordering::Relaxed);
                // Called after answering, as a real receiver would; the server does not wait.
                let receiver = self.clone();
                tokio::spawn(async move {
                    let answer = receiver.client.get(&callback).send().await;
                    if !answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                        receiver
                            .failed_verifications
                            .fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            Parsed::Malformed => {
                self.malformed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

async fn hook(
    State(receiver): State<Arc<Receiver>>,
    Path(webhook): Path<u32>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver.receive(&receiver.hooks, webhook, &headers, &body);
    StatusCode::OK
}

async fn loopback(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver.receive(&receiver.loopback, 0, &headers, &body);
    StatusCode::OK
}

async fn progress(State(receiver): State<Arc<Receiver>>) -> Json<serde_json::Value> {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    Json(serde_json::json!({
        "messages": load(&receiver.hooks.messages),
        "loopback_messages": load(&receiver.loopback.messages),
        "verifications": load(&receiver.verifications),
        "failed_verifications": load(&receiver.failed_verifications),
        "malformed": load(&receiver.malformed),
        "connections": load(&receiver.connections),
    }))
}

#[derive(Deserialize)]
struct ReportQuery {
    events: u64,
    webhooks: u32,
}

async fn report(
    State(receiver): State<Arc<Receiver>>,
    Query(query): Query<ReportQuery>,
) -> Json<serde_json::Value> {
    let receipts = receiver
        .hooks
        .receipts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let tally = Tally::of(&receipts, query.events, query.webhooks);
    let mut answer = serde_json::to_value(tally).expect("a tally serializes");
    answer["messages"] = receipts.len().into();
    answer["malformed"] = receiver.malformed.load(Ordering::Relaxed).into();
    answer["connections"] = receiver.connections.load(Ordering::Relaxed).into();
    Json(answer)
}

#[tokio::main]
async fn main() {
    // reqwest is built without a default TLS provider (as in gatehouse); the callbacks are
    // plain http, but the client wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .unwrap_or_else(|error| panic!("bind {}: {error}", args.listen));
    let address = listener.local_addr().expect("the listener's address");
    let receiver = Arc::new(Receiver {
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client"),
        ..Receiver::default()
    });
    let counting = receiver.clone();
    let listener = listener.tap_io(move |socket| {
        counting.connections.fetch_add(1, Ordering::Relaxed);
        let _ = socket.set_nodelay(true);
    });
    let app = axum::Router::new()
        .route("/hook/{webhook}", post(hook))
        .route("/loopback", post(loopback))
        .route("/progress", get(progress))
        .route("/report", get(report))
        .with_state(receiver);
    println!("listening http://{address}");
    std::io::stdout().flush().expect("stdout");
    axum::serve(listener, app).await.expect("serve");
}
