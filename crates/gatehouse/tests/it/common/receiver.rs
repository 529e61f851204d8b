//! A real webhook receiver on 127.0.0.1 for black-box tests: it speaks HTTP/1.1 over a plain
//! TCP socket (keep-alive included), records every request, and answers as the test scripts
//! it — a status, a delay, a `Retry-After`, or a connection closed mid-response. It can also
//! call back the verification URL a `webhook.verify` message carries, as a receiver's owner
//! would.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which TCP connection carried it (1 for the first accepted).
    pub connection: usize,
    /// When its body had arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// The message: the JSON body, or the claims of a JWS body (`application/jwt`, signed by a
    /// webhook policy), read without checking the signature.
    pub fn json(&self) -> serde_json::Value {
        if self.header("content-type") == Some("application/jwt") {
            return self.jwt_claims();
        }
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The message whatever its wrapping: `json()`, or the `data` claim of Xurrent's
    /// `{"jwt": …}` wrapper (unverified).
    pub fn message(&self) -> serde_json::Value {
        let json = self.json();
        match json.get("jwt").and_then(serde_json::Value::as_str) {
            Some(token) => claims_of(token)["data"].clone(),
            None => json,
        }
    }

    /// The claims of a JWS body, unverified.
    pub fn jwt_claims(&self) -> serde_json::Value {
        claims_of(std::str::from_utf8(&self.body).expect("a JWS is text"))
    }

    pub fn event(&self) -> String {
        self.header("x-gatehouse-event")
            .unwrap_or_default()
            .to_owned()
    }
}

/// The claims of a compact JWS, unverified.
fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let claims = token.split('.').nth(1).expect("three parts");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .expect("base64url claims");
    serde_json::from_slice(&claims).expect("JSON claims")
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    /// A status with a `Retry-After` header.
    RetryAfter(u16, String),
    /// Wait, then answer 200.
    Slow(Duration),
    /// Never answer (until the sender gives up).
    Hang,
    /// Promise 100 bytes of body, send 10, close.
    CloseMidResponse,
}

struct State {
    received: Vec<Received>,
    /// Replies for the first message of an event, whenever it arrives: deliveries to one
    /// webhook go out concurrently, so the order they arrive in is not the order published.
    by_event: std::collections::HashMap<String, Reply>,
    script: VecDeque<Reply>,
    default: Reply,
    verify: bool,
    connections: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// A receiver answering 200 and completing verifications.
    pub async fn start() -> Self {
        let (listener, address) = super::listen_locally().await;
        let url = format!("http://{address}/hook");
        let receiver = Self {
            url,
            state: Arc::new(Mutex::new(State {
                received: Vec::new(),
                by_event: std::collections::HashMap::new(),
                script: VecDeque::new(),
                default: Reply::Status(200),
                verify: true,
                connections: 0,
            })),
            arrived: Arc::new(Notify::new()),
        };
        let accepting = receiver.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let connection = {
                    let mut state = accepting.lock();
                    state.connections += 1;
                    state.connections
                };
                tokio::spawn(accepting.clone().serve(socket, connection));
            }
        });
        receiver
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers the next requests with `replies`, in order, then with the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Answers the first message of `event` with `reply`, whenever it arrives (later ones of
    /// the event, retries included, get the script or the default).
    pub fn answer_event(&self, event: &str, reply: Reply) {
        self.lock().by_event.insert(event.to_owned(), reply);
    }

    /// What every request answers once the script is used up.
    pub fn answer_by_default(&self, reply: Reply) {
        self.lock().default = reply;
    }

    /// Whether `webhook.verify` messages are answered by calling their callback.
    pub fn complete_verifications(&self, verify: bool) {
        self.lock().verify = verify;
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Requests other than verification messages.
    pub fn messages(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|request| request.event() != "webhook.verify")
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    /// Waits (up to 10 s) until at least `count` requests matching `filter` arrived.
    pub async fn wait_for(
        &self,
        count: usize,
        filter: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let matching: Vec<Received> =
                self.received().into_iter().filter(|r| filter(r)).collect();
            if matching.len() >= count {
                return matching;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "expected {count} requests, got {}: {:?}",
                    matching.len(),
                    self.received()
                        .iter()
                        .map(Received::event)
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    /// Waits for `count` messages (verification messages not counted).
    pub async fn wait_for_messages(&self, count: usize) -> Vec<Received> {
        self.wait_for(count, |request| request.event() != "webhook.verify")
            .await
    }

    async fn serve(self, socket: tokio::net::TcpStream, connection: usize) {
        let (read, mut write) = socket.into_split();
        let mut reader = BufReader::new(read);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                return;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(name, _)| name == "content-length")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).await.is_err() {
                return;
            }
            let received = Received {
                path,
                headers,
                body,
                connection,
                at: std::time::Instant::now(),
            };
            let (reply, verify) = {
                let mut state = self.lock();
                state.received.push(received.clone());
                let reply = match state.by_event.remove(&received.event()) {
                    Some(reply) => reply,
                    None => state
                        .script
                        .pop_front()
                        .unwrap_or_else(|| state.default.clone()),
                };
                (reply, state.verify)
            };
            self.arrived.notify_waiters();
            if verify && received.event() == "webhook.verify" {
                let callback = received.message()["payload"]["callback"]
                    .as_str()
                    .expect("callback")
                    .to_owned();
                tokio::spawn(async move {
                    let answer = reqwest::get(&callback).await.expect("call the callback");
                    assert_eq!(answer.status(), 200, "verification callback");
                });
            }
            let (status, extra, delay) = match reply {
                Reply::Status(status) => (status, String::new(), None),
                Reply::RetryAfter(status, after) => {
                    (status, format!("retry-after: {after}\r\n"), None)
                }
                Reply::Slow(delay) => (200, String::new(), Some(delay)),
                Reply::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                Reply::CloseMidResponse => {
                    let _ = write
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                        .await;
                    return;
                }
            };
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let response =
                format!("HTTP/1.1 {status} Status\r\ncontent-length: 2\r\n{extra}\r\nok");
            if write.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}
