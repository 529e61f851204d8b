//! How long each web console page takes with a busy account: `GATEHOUSE_BENCH_DELIVERIES`
//! (100,000) webhook deliveries — really sent by a delivery worker to a receiver on 127.0.0.1,
//! half of them signed, each with its attempt — plus 2,000 SCIM users and a group of 1,000
//! members. Each page is requested `GATEHOUSE_BENCH_REQUESTS` (30) times one after another by a
//! signed-in client, after 3 warm-up requests; the table gives the client's time per request
//! (so the server's time is at most that), per backend.
//!
//! `cargo bench -p gatehouse --bench console`; `GATEHOUSE_BENCH_BACKENDS` (`sqlite,postgres`)
//! picks the stores, PostgreSQL at `GATEHOUSE_TEST_POSTGRES_URL` (else 127.0.0.1:5432/test).

#[path = "support/database.rs"]
mod database;
#[path = "../tests/it/common/seed.rs"]
#[allow(dead_code)] // not every bench seeds with every helper
mod seed;
#[path = "support/server.rs"]
#[allow(dead_code)] // it runs on all the cores, not on `server::runtime`
mod server;
#[path = "support/settings.rs"]
#[allow(dead_code)] // only the backends
mod settings;

use database::Database;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::delivery::worker::{self, WorkerSettings};
use gatehouse::service::{NewWebhook, NewWebhookPolicy, PublishEvent, Services, SystemClock};
use serde_json::{Value, json};

const SCIM_USERS: usize = 2_000;
const GROUP_MEMBERS: usize = 1_000;
const WARM_UP: usize = 3;

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Answers 200; completes verifications by calling their callback.
struct Receiver {
    messages: AtomicU64,
    client: reqwest::Client,
}

async fn receive(State(receiver): State<Arc<Receiver>>, body: Bytes) -> &'static str {
    // A signed message is a compact JWS, alone (`jwt_format: jws`) or as Xurrent sends it,
    // `{"jwt": "<JWS>"}` with the message under the claims' `data`.
    let claims = |token: &str| -> Value {
        token
            .split('.')
            .nth(1)
            .and_then(|claims| URL_SAFE_NO_PAD.decode(claims).ok())
            .and_then(|claims| serde_json::from_slice(&claims).ok())
            .unwrap_or(Value::Null)
    };
    let message = match serde_json::from_slice::<Value>(&body) {
        Ok(json) => match json.get("jwt").and_then(Value::as_str) {
            Some(token) => claims(token)["data"].clone(),
            None => json,
        },
        Err(_) => claims(&String::from_utf8_lossy(&body)),
    };
    if message["event"] == "webhook.verify" {
        let callback = message["payload"]["callback"].as_str().map(str::to_owned);
        if let Some(callback) = callback {
            let _ = receiver.client.get(callback).send().await;
        }
    } else {
        receiver.messages.fetch_add(1, Ordering::Relaxed);
    }
    "ok"
}

struct Client {
    http: reqwest::Client,
    base_url: String,
    cookie: String,
}

impl Client {
    async fn get(&self, path: &str) -> (reqwest::StatusCode, String, Duration) {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET");
        let status = response.status();
        let body = response.text().await.expect("body");
        (status, body, started.elapsed())
    }
}

fn first_link(body: &str, table_id: &str, prefix: &str) -> String {
    let table = body
        .split(&format!("id=\"{table_id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("table {table_id}"));
    let id = table
        .split(&format!("href=\"{prefix}"))
        .nth(1)
        .expect("a link")
        .split('"')
        .next()
        .expect("end");
    format!("{prefix}{id}")
}

struct Row {
    page: String,
    backend: String,
    p50: f64,
    p95: f64,
    max: f64,
    bytes: usize,
}

#[allow(clippy::too_many_lines)]
async fn bench(backend: &str, deliveries: usize, requests: usize) -> Vec<Row> {
    let database = Database::open(backend).await;
    let (listener, base_url) = server::bind().await;
    let services = Services::new(database.store.clone(), Arc::new(SystemClock))
        .with_base_url(&base_url)
        .with_sender(server::local_sender());
    server::serve(listener, &services, &base_url);
    let receiver = Arc::new(Receiver {
        messages: AtomicU64::new(0),
        client: reqwest::Client::new(),
    });
    let (receiver_listener, receiver_base_url) = server::bind().await;
    let receiver_url = format!("{receiver_base_url}/hook");
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(receiver_listener, app).await });
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(worker::run(
        services.clone(),
        WorkerSettings::default(),
        shutdown,
    ));

    let account = seed::account(&services, "bench", "Bench Inc.").await;
    let roles = ["account_administrator"];
    let admin = seed::person(
        &services,
        &account,
        "Ada Admin",
        "ada@bench.example",
        &roles,
    )
    .await;
    let token = seed::token(
        &services,
        &account,
        &admin,
        "bench",
        seed::every_scope(),
        30,
    )
    .await;
    let (policy, _) = services
        .create_webhook_policy(
            &account,
            None,
            NewWebhookPolicy {
                name: Some("bench es256".to_owned()),
                jwt_alg: "es256".to_owned(),
                jwt_audience: Some("bench".to_owned()),
                ..NewWebhookPolicy::default()
            },
        )
        .await
        .expect("policy");
    for (name, policy) in [("signed", Some(policy.id)), ("unsigned", None)] {
        services
            .create_webhook(
                &account,
                None,
                NewWebhook {
                    name: Some(name.to_owned()),
                    event: "bench.*".to_owned(),
                    uri: receiver_url.clone(),
                    webhook_policy_id: policy,
                    ..NewWebhook::default()
                },
            )
            .await
            .expect("webhook");
    }
    // Wait for both verifications, then publish: each event goes to both webhooks.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listing = services
            .store
            .webhooks(&account.id, Default::default(), &Default::default())
            .await
            .expect("webhooks");
        if listing
            .items
            .iter()
            .all(|webhook| webhook.verified_at.is_some())
        {
            break;
        }
        assert!(Instant::now() < deadline, "webhooks not verified");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seeding = Instant::now();
    let events = deliveries / 2;
    let next = Arc::new(AtomicU64::new(0));
    let mut publishers = Vec::new();
    for _ in 0..8 {
        let (services, account, next) = (services.clone(), account.clone(), next.clone());
        publishers.push(tokio::spawn(async move {
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= events as u64 {
                    break;
                }
                services
                    .publish_event(
                        &account,
                        None,
                        PublishEvent {
                            event: format!("bench.event{}", seq % 10),
                            object_id: seq.to_string(),
                            payload: json!({ "seq": seq, "note": "console bench" }),
                        },
                        None,
                    )
                    .await
                    .expect("publish");
            }
        }));
    }
    for publisher in publishers {
        publisher.await.expect("publisher");
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let scim_user = |index: usize| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("user{index:05}@bench.example"),
            "name": { "givenName": "User", "familyName": format!("Number{index}") },
            "emails": [{ "value": format!("user{index:05}@bench.example"), "primary": true, "type": "work" }],
        })
    };
    let mut member_ids = Vec::new();
    for chunk in (0..SCIM_USERS).collect::<Vec<_>>().chunks(50) {
        let mut sends = Vec::new();
        for &index in chunk {
            let request = http
                .post(format!("{base_url}/scim/v2/Users"))
                .bearer_auth(&token)
                .header("content-type", "application/scim+json")
                .json(&scim_user(index));
            sends.push(tokio::spawn(async move {
                request
                    .send()
                    .await
                    .expect("SCIM")
                    .json::<Value>()
                    .await
                    .expect("json")
            }));
        }
        for send in sends {
            let user = send.await.expect("task");
            member_ids.push(user["id"].as_str().expect("id").to_owned());
        }
    }
    let members: Vec<Value> = member_ids
        .iter()
        .take(GROUP_MEMBERS)
        .map(|id| json!({ "value": id }))
        .collect();
    let group: Value = http
        .post(format!("{base_url}/scim/v2/Groups"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .json(&json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone", "members": members }))
        .send()
        .await
        .expect("group")
        .json()
        .await
        .expect("json");
    while receiver.messages.load(Ordering::Relaxed) < deliveries as u64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the worker record the last attempts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!(
        "{backend}: {deliveries} deliveries sent and {SCIM_USERS} SCIM users made in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    database
        .vacuum_analyze(&[
            "webhook_deliveries",
            "webhook_delivery_attempts",
            "scim_users",
            "scim_group_members",
            "events",
        ])
        .await;

    // Sign in as a browser does.
    let form = http
        .get(format!("{base_url}/console/sign-in"))
        .send()
        .await
        .expect("sign-in form");
    let guard = form.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let page = form.text().await.expect("body");
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("csrf") + marker.len();
    let csrf = &page[start..start + page[start..].find('"').expect("end")];
    let signed_in = http
        .post(format!("{base_url}/console/sign-in"))
        .header("cookie", guard)
        .form(&[("csrf_token", csrf), ("token", token.as_str())])
        .send()
        .await
        .expect("sign in");
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("gatehouse_session="))
        .expect("session cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let client = Client {
        http,
        base_url,
        cookie: session,
    };

    let deliveries_page = client.get("/console/deliveries").await.1;
    let delivery = first_link(&deliveries_page, "deliveries", "/console/deliveries/");
    let webhooks_page = client.get("/console/webhooks").await.1;
    let webhook = first_link(&webhooks_page, "webhooks", "/console/webhooks/");
    let webhook_id = webhook.rsplit('/').next().expect("id").to_owned();
    // The 26th oldest delivery: "Older" from it shows the 25 oldest, the far end of the list.
    let oldest: Value = client
        .http
        .get(format!(
            "{}/v1/webhook_deliveries?sort=created_at&per_page=26",
            client.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("oldest deliveries")
        .json()
        .await
        .expect("json");
    let far = &oldest[25];
    let far_cursor = format!(
        "{}.{}",
        chrono::DateTime::parse_from_rfc3339(far["created_at"].as_str().expect("created_at"))
            .expect("RFC 3339")
            .timestamp_micros(),
        far["id"].as_str().expect("id")
    );
    let user = format!("/console/scim/users/{}", member_ids[0]);
    let group = format!(
        "/console/scim/groups/{}",
        group["id"].as_str().expect("group id")
    );
    let pages: Vec<(String, String)> = vec![
        ("overview".into(), "/console/overview".into()),
        ("tokens".into(), "/console/tokens".into()),
        (
            "people, search".into(),
            "/console/people?search=admin".into(),
        ),
        ("account".into(), "/console/account".into()),
        ("events".into(), "/console/events".into()),
        ("SCIM credential".into(), "/console/scim-token".into()),
        ("SCIM users".into(), "/console/scim/users".into()),
        (
            "SCIM users, search".into(),
            "/console/scim/users?search=number1999".into(),
        ),
        (
            "SCIM users, page 80 of 80".into(),
            "/console/scim/users?page=80".into(),
        ),
        ("SCIM user".into(), user),
        ("SCIM groups".into(), "/console/scim/groups".into()),
        ("SCIM group (1,000 members)".into(), group),
        ("webhooks".into(), "/console/webhooks".into()),
        ("webhook".into(), webhook),
        (
            "webhook policies".into(),
            "/console/webhook-policies".into(),
        ),
        (
            "webhook policy".into(),
            format!("/console/webhook-policies/{}", policy.id),
        ),
        ("deliveries".into(), "/console/deliveries".into()),
        (
            "deliveries, one webhook".into(),
            format!("/console/deliveries?webhook_id={webhook_id}"),
        ),
        (
            "deliveries, webhook + succeeded".into(),
            format!("/console/deliveries?webhook_id={webhook_id}&status=succeeded"),
        ),
        (
            "deliveries, status failed (none)".into(),
            "/console/deliveries?status=failed".into(),
        ),
        (
            "deliveries, one event of 10".into(),
            "/console/deliveries?event=bench.event3".into(),
        ),
        (
            "deliveries, created after".into(),
            "/console/deliveries?created_after=2000-01-01T00%3A00".into(),
        ),
        (
            "deliveries, the 25 oldest (Older link)".into(),
            format!("/console/deliveries?before={far_cursor}"),
        ),
        ("delivery (signed, decoded)".into(), delivery),
        ("notifications".into(), "/console/notifications".into()),
    ];
    let mut rows = Vec::new();
    for (label, path) in pages {
        for _ in 0..WARM_UP {
            let (status, body, _) = client.get(&path).await;
            assert_eq!(status, reqwest::StatusCode::OK, "{path}: {body}");
        }
        let mut times = Vec::with_capacity(requests);
        let mut bytes = 0;
        for _ in 0..requests {
            let (status, body, took) = client.get(&path).await;
            assert_eq!(status, reqwest::StatusCode::OK, "{path}");
            bytes = body.len();
            times.push(took.as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at = |quantile: f64| times[((times.len() as f64 - 1.0) * quantile).round() as usize];
        rows.push(Row {
            page: label,
            backend: backend.to_owned(),
            p50: at(0.5),
            p95: at(0.95),
            max: at(1.0),
            bytes,
        });
    }
    database.finish().await;
    rows
}

fn main() {
    let backends = settings::backends();
    let deliveries = env_or("GATEHOUSE_BENCH_DELIVERIES", 100_000usize);
    let requests = env_or("GATEHOUSE_BENCH_REQUESTS", 30usize).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for backend in &backends {
        rows.extend(runtime.block_on(bench(backend, deliveries, requests)));
    }
    println!(
        "\nConsole pages, {deliveries} deliveries, {SCIM_USERS} SCIM users; {requests} requests each (ms, client side)\n"
    );
    println!("| page | backend | p50 | p95 | max | KiB |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
            row.page,
            row.backend,
            row.p50,
            row.p95,
            row.max,
            row.bytes as f64 / 1024.0
        );
    }
}
