//! SCIM at scale, over real HTTP: the real router on 127.0.0.1, driven by a keep-alive reqwest
//! client, on an account with 100,000 SCIM Users (BENCHMARKS.md "SCIM at 100,000 users").
//!
//! Measures, per backend:
//! - `GET /Users/{id}` and `GET /Users?filter=userName eq "…"`: requests per second with a few
//!   concurrent connections, and their latency;
//! - `PATCH /Groups/{id}` adding one member, as Entra ID sends it, to groups of 1,000, 10,000
//!   and 100,000 members: answered with 204 (the account setting), with 200 and
//!   `excludedAttributes=members`, and with the default 200 carrying every member;
//! - `GET /Users?startIndex=…&count=100` at the start, middle and end of the 100,000 Users,
//!   and, where the server offers cursors (RFC 9865), the whole list walked by `cursor`.
//!
//! The Users are created through `Services::create_scim_user`, the groups through
//! `Services::create_scim_group`; on PostgreSQL the tables are analyzed during the load and
//! vacuumed and analyzed before measuring, as autovacuum would (see `analyze_while_seeding`).
//!
//! ```sh
//! cargo bench -p gatehouse --bench scim
//! ```
//!
//! Environment (all optional):
//! - `GATEHOUSE_BENCH_USERS` (100000): Users seeded; group sizes are 1 %, 10 % and 100 % of it.
//! - `GATEHOUSE_BENCH_BACKENDS` (`sqlite,postgres`).
//! - `GATEHOUSE_TEST_POSTGRES_URL` (`postgres://postgres@127.0.0.1:5432/test`): the run gets
//!   a fresh schema there, dropped at the end.
//! - `GATEHOUSE_BENCH_SECONDS` (10): how long each requests-per-second figure runs.
//! - `GATEHOUSE_BENCH_CONCURRENCY` (4): connections for the requests-per-second figures.
//! - `GATEHOUSE_BENCH_PATCHES` (200): PATCHes measured per group size for 204 and for
//!   `excludedAttributes=members`; `GATEHOUSE_BENCH_FULL_PATCHES` (20) for the full answer.
//! - `GATEHOUSE_BENCH_SEED_TASKS` (4): concurrent tasks creating the Users.
//! - `GATEHOUSE_BENCH_KEEP`: keep the SQLite file and the PostgreSQL schema, to EXPLAIN on them.
//!
//! Latency is measured sequentially on one connection (client time: request sent to body
//! read). The client runs in the same process as the server, so it shares their CPU.

#[path = "support/database.rs"]
mod database;
#[path = "../tests/it/common/seed.rs"]
#[allow(dead_code)] // not every bench seeds with every helper
mod seed;
#[path = "support/server.rs"]
#[allow(dead_code)] // its server sends no webhooks
mod server;
#[path = "support/settings.rs"]
#[allow(dead_code)] // only some of it
mod settings;

use database::Database;
use settings::{env_or, percentile};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use gatehouse::domain::ScimPatchResponse;
use gatehouse::service::scim::Members;
use gatehouse::service::{AccountChanges, ScimPrincipal, Services, SystemClock};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Unmeasured requests before each latency series.
const WARM_UP: usize = 5;

struct Config {
    users: usize,
    seconds: u64,
    concurrency: usize,
    patches: usize,
    full_patches: usize,
    seed_tasks: usize,
}

impl Config {
    fn from_env() -> Self {
        Self {
            users: env_or("GATEHOUSE_BENCH_USERS", 100_000).max(100),
            seconds: env_or("GATEHOUSE_BENCH_SECONDS", 10).max(1),
            concurrency: env_or("GATEHOUSE_BENCH_CONCURRENCY", 4).max(1),
            patches: env_or("GATEHOUSE_BENCH_PATCHES", 200).max(1),
            full_patches: env_or("GATEHOUSE_BENCH_FULL_PATCHES", 20).max(1),
            seed_tasks: env_or("GATEHOUSE_BENCH_SEED_TASKS", 4).max(1),
        }
    }

    fn group_sizes(&self) -> [usize; 3] {
        [self.users / 100, self.users / 10, self.users]
    }

    /// Users outside every group, one per PATCH of one group (reused across groups).
    fn spare_users(&self) -> usize {
        3 * WARM_UP + 2 * self.patches + self.full_patches
    }
}

/// The tables the seeding fills, which PostgreSQL's autovacuum would analyze during the load.
const SEEDED_TABLES: &[&str] = &[
    "people",
    "scim_users",
    "scim_user_values",
    "scim_groups",
    "scim_group_members",
    "events",
];

impl Database {
    /// On PostgreSQL, ANALYZEs the seeded tables every few seconds until the returned sender is
    /// dropped, as autovacuum does on a production server. Without it (the test server runs with
    /// `autovacuum = off`) the tables are never analyzed, and a connection's cached generic plan
    /// made while `people` was nearly empty keeps scanning the whole account for each email
    /// lookup, so the load slows down quadratically.
    fn analyze_while_seeding(&self) -> Option<tokio::sync::oneshot::Sender<()>> {
        let database::postgres_schema::PostgresSchema {
            server_url: url,
            name: schema,
        } = self.postgres_schema.clone()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                for table in SEEDED_TABLES {
                    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {schema}.{table}")))
                        .execute(&pool)
                        .await
                        .expect("analyze");
                }
            }
            pool.close().await;
        });
        Some(stop)
    }
}

/// The seeded account: its administrator's token, and the SCIM Users' ids and userNames.
struct Seeded {
    account_id: gatehouse::domain::AccountId,
    token: String,
    user_ids: Vec<String>,
    user_names: Vec<String>,
}

fn user_name(index: usize) -> String {
    format!("user{index:06}@example.org")
}

/// A User as Entra ID provisions one.
fn user_body(index: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": format!("ext-{index:06}"),
        "userName": user_name(index),
        "active": true,
        "displayName": format!("User {index:06}"),
        "name": { "givenName": "User", "familyName": format!("N{index:06}"), "formatted": format!("User N{index:06}") },
        "title": "Engineer",
        "emails": [{ "primary": true, "type": "work", "value": user_name(index) }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D", "employeeNumber": format!("{index}") },
    })
}

async fn seed(services: &Services, config: &Config) -> (Seeded, ScimPrincipal) {
    let account_id = format!("bench-{}", Utc::now().timestamp_micros());
    let account = seed::account(services, &account_id, "Bench").await;
    let roles = ["directory_administrator"];
    let admin = seed::person(services, &account, "Admin", "admin@bench.example", &roles).await;
    let scopes = ["scim:read", "scim:write"];
    let token = seed::token(services, &account, &admin, "bench", scopes, 30).await;
    let principal = services
        .authenticate_scim(&token, None)
        .await
        .expect("authenticates");

    let total = config.users + config.spare_users();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..config.seed_tasks {
        let services = services.clone();
        let principal = principal.clone();
        let tasks_count = config.seed_tasks;
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for index in (task..total).step_by(tasks_count) {
                let user = services
                    .create_scim_user(&principal, &user_body(index))
                    .await
                    .expect("create SCIM User");
                ids.push((index, user.id.to_string()));
                if index % 10_000 == 0 {
                    eprintln!(
                        "  {index} users after {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            ids
        });
    }
    let mut user_ids = vec![String::new(); total];
    while let Some(ids) = tasks.join_next().await {
        for (index, id) in ids.expect("seeding task") {
            user_ids[index] = id;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "  seeded {total} SCIM Users in {:.1} s ({:.0} per second, {} tasks)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        config.seed_tasks
    );
    let seeded = Seeded {
        account_id: account.id,
        token,
        user_ids,
        user_names: (0..total).map(user_name).collect(),
    };
    (seeded, principal)
}

/// A deterministic pseudo-random sequence (xorshift64), so runs request the same Users.
struct Sequence(u64);

impl Sequence {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[derive(Clone, Copy)]
struct Summary {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    count: usize,
}

fn summarize(mut samples: Vec<Duration>) -> Summary {
    assert!(!samples.is_empty(), "no samples");
    samples.sort();
    Summary {
        p50: percentile(&samples, 50),
        p95: percentile(&samples, 95),
        p99: percentile(&samples, 99),
        count: samples.len(),
    }
}

fn ms(duration: Duration) -> String {
    settings::ms(duration.as_secs_f64() * 1000.0)
}

struct Bench {
    client: reqwest::Client,
    base_url: String,
    token: String,
}

impl Bench {
    /// One request, its body read to the end; panics unless the status is `expected`.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        expected: StatusCode,
    ) -> axum::body::Bytes {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body = response.bytes().await.expect("body");
        assert_eq!(
            status,
            expected,
            "unexpected answer: {}",
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
        body
    }

    async fn get_json(&self, path: &str) -> Value {
        let body = self
            .send(
                self.client.get(format!("{}{path}", self.base_url)),
                StatusCode::OK,
            )
            .await;
        serde_json::from_slice(&body).expect("JSON")
    }

    /// `concurrency` connections each sending GETs of `paths` (round robin) back to back for
    /// `seconds`; returns requests per second and the latency of each request.
    async fn throughput(
        &self,
        paths: Arc<Vec<String>>,
        concurrency: usize,
        seconds: u64,
    ) -> (f64, Summary) {
        // Warm up every connection first.
        for path in paths.iter().take(concurrency * 10) {
            self.send(
                self.client.get(format!("{}{path}", self.base_url)),
                StatusCode::OK,
            )
            .await;
        }
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..concurrency {
            let client = self.client.clone();
            let base_url = self.base_url.clone();
            let token = self.token.clone();
            let paths = paths.clone();
            tasks.spawn(async move {
                let mut samples = Vec::new();
                let mut index = worker;
                while Instant::now() < deadline {
                    let path = &paths[index % paths.len()];
                    index += concurrency;
                    let sent = Instant::now();
                    let response = client
                        .get(format!("{base_url}{path}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
                    response.bytes().await.expect("body");
                    samples.push(sent.elapsed());
                }
                samples
            });
        }
        let mut samples = Vec::new();
        while let Some(worker_samples) = tasks.join_next().await {
            samples.extend(worker_samples.expect("worker"));
        }
        let elapsed = started.elapsed().as_secs_f64();
        (samples.len() as f64 / elapsed, summarize(samples))
    }

    /// Sequential latency of GETs of `paths`, after a warm-up.
    async fn latency(&self, paths: &[String], expected: StatusCode) -> Summary {
        for path in paths.iter().take(WARM_UP) {
            self.send(
                self.client.get(format!("{}{path}", self.base_url)),
                expected,
            )
            .await;
        }
        let mut samples = Vec::with_capacity(paths.len());
        for path in paths {
            let sent = Instant::now();
            self.send(
                self.client.get(format!("{}{path}", self.base_url)),
                expected,
            )
            .await;
            samples.push(sent.elapsed());
        }
        summarize(samples)
    }
}

/// Latency of cursor pages (RFC 9865) at the start, middle and end of the list.
struct CursorWalk {
    pages: usize,
    seconds: f64,
    first: Summary,
    middle: Summary,
    last: Summary,
}

/// Walks every User with `cursor` and `count=100`, following `nextCursor`; `None` when the
/// server answers without cursors.
async fn walk_by_cursor(bench: &Bench, total: usize) -> Option<CursorWalk> {
    let first = bench.get_json("/scim/v2/Users?cursor=&count=100").await;
    first.get("nextCursor")?;
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut seen = 0;
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let path = format!(
            "/scim/v2/Users?count=100&cursor={}",
            percent_encode(&cursor)
        );
        let sent = Instant::now();
        let page = bench.get_json(&path).await;
        samples.push(sent.elapsed());
        seen += page["Resources"].as_array().map_or(0, Vec::len);
        next = page["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, total, "the cursor walk saw every User once");
    let seconds = started.elapsed().as_secs_f64();
    let window = samples.len().min(10);
    let middle_start = (samples.len() - window) / 2;
    Some(CursorWalk {
        pages: samples.len(),
        seconds,
        first: summarize(samples[..window].to_vec()),
        middle: summarize(samples[middle_start..middle_start + window].to_vec()),
        last: summarize(samples[samples.len() - window..].to_vec()),
    })
}

fn add_member_body(user_id: &str) -> Value {
    json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "Add", "path": "members", "value": [{ "value": user_id }] }],
    })
}

/// The three ways a PATCH may be answered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    NoContent,
    ExcludedMembers,
    Full,
}

struct PatchRow {
    size: usize,
    create_seconds: f64,
    no_content: Summary,
    excluded: Summary,
    full: Summary,
    full_bytes: usize,
}

struct Report {
    backend: String,
    users: usize,
    seed_seconds: f64,
    get_by_id: (f64, Summary, Summary),
    filter: (f64, Summary, Summary),
    patches: Vec<PatchRow>,
    pages: Vec<(usize, Summary, usize)>,
    cursor_walk: Option<CursorWalk>,
}

async fn run_backend(backend: &str, config: &Config) -> Report {
    eprintln!("== {backend}: seeding {} Users", config.users);
    let database = Database::open(backend).await;
    let services = Services::new(database.store.clone(), Arc::new(SystemClock));
    let seed_started = Instant::now();
    let analyzer = database.analyze_while_seeding();
    let (seeded, principal) = seed(&services, config).await;
    let seed_seconds = seed_started.elapsed().as_secs_f64();

    let (listener, base_url) = server::bind().await;
    let server = server::serve(listener, &services, &base_url);
    let bench = Bench {
        client: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client"),
        base_url,
        token: seeded.token.clone(),
    };
    let member_count = config.users;
    let spares = &seeded.user_ids[member_count..];

    // Groups first, so the reads run on the final data set too.
    let mut groups = Vec::new();
    for size in config.group_sizes() {
        let members: Vec<Value> = seeded.user_ids[..size]
            .iter()
            .map(|id| json!({ "value": id }))
            .collect();
        let body = json!({ "schemas": [GROUP_SCHEMA], "displayName": format!("Group of {size}"), "members": members });
        let started = Instant::now();
        let group = services
            .create_scim_group(&principal, &body, Members::Skip)
            .await
            .expect("create group");
        let create_seconds = started.elapsed().as_secs_f64();
        eprintln!("  created a group of {size} members in {create_seconds:.1} s");
        groups.push((size, group.group.id.to_string(), create_seconds));
    }
    drop(analyzer);
    database.vacuum_analyze(SEEDED_TABLES).await;

    // 1. GET /Users/{id}.
    let mut sequence = Sequence(0x9E37_79B9_7F4A_7C15);
    let id_paths: Arc<Vec<String>> = Arc::new(
        (0..10_000)
            .map(|_| {
                format!(
                    "/scim/v2/Users/{}",
                    seeded.user_ids[sequence.below(member_count)]
                )
            })
            .collect(),
    );
    let sample = bench.get_json(&id_paths[0]).await;
    assert!(sample["userName"].is_string(), "a User: {sample}");
    eprintln!("  GET /Users/{{id}}");
    let get_latency = bench.latency(&id_paths[..500], StatusCode::OK).await;
    let (get_rps, get_summary) = bench
        .throughput(id_paths.clone(), config.concurrency, config.seconds)
        .await;

    // 2. GET /Users?filter=userName eq "…".
    let filter_paths: Arc<Vec<String>> = Arc::new(
        (0..10_000)
            .map(|_| {
                let name = &seeded.user_names[sequence.below(member_count)];
                format!(
                    "/scim/v2/Users?filter={}",
                    percent_encode(&format!("userName eq \"{name}\""))
                )
            })
            .collect(),
    );
    let sample = bench.get_json(&filter_paths[0]).await;
    assert_eq!(sample["totalResults"], 1, "one match: {sample}");
    eprintln!("  GET /Users?filter=userName eq");
    let filter_latency = bench.latency(&filter_paths[..500], StatusCode::OK).await;
    let (filter_rps, filter_summary) = bench
        .throughput(filter_paths.clone(), config.concurrency, config.seconds)
        .await;

    // 4. Pages deep in the list.
    let mut pages = Vec::new();
    let total_users = seeded.user_ids.len();
    for start_index in [1, member_count / 2, member_count - 99] {
        let path = format!("/scim/v2/Users?startIndex={start_index}&count=100");
        let sample = bench.get_json(&path).await;
        assert_eq!(sample["Resources"].as_array().map(Vec::len), Some(100));
        assert_eq!(sample["totalResults"], total_users, "totalResults");
        let body_bytes = serde_json::to_vec(&sample).expect("JSON").len();
        eprintln!("  GET /Users?startIndex={start_index}&count=100");
        let paths = vec![path; 50];
        pages.push((
            start_index,
            bench.latency(&paths, StatusCode::OK).await,
            body_bytes,
        ));
    }

    eprintln!("  GET /Users?cursor=…&count=100 through the whole list");
    let cursor_walk = walk_by_cursor(&bench, total_users).await;

    // 3. PATCH adding one member, as Entra ID sends it.
    let mut patches = Vec::new();
    for (size, group_id, create_seconds) in groups {
        eprintln!("  PATCH a group of {size}");
        let mut next_spare = 0;
        let mut results = Vec::new();
        for answer in [Answer::ExcludedMembers, Answer::NoContent, Answer::Full] {
            let setting = if answer == Answer::NoContent {
                ScimPatchResponse::NoContent
            } else {
                ScimPatchResponse::Resource
            };
            services
                .update_account(
                    &seeded.account_id,
                    AccountChanges {
                        scim_patch_response: Some(setting),
                        ..Default::default()
                    },
                )
                .await
                .expect("account setting");
            let query = if answer == Answer::ExcludedMembers {
                "?excludedAttributes=members"
            } else {
                ""
            };
            let url = format!("{}/scim/v2/Groups/{group_id}{query}", bench.base_url);
            let expected = if answer == Answer::NoContent {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::OK
            };
            let measured = if answer == Answer::Full {
                config.full_patches
            } else {
                config.patches
            };
            let mut samples = Vec::with_capacity(measured);
            let mut body_bytes = 0;
            for iteration in 0..WARM_UP + measured {
                let user_id = &spares[next_spare];
                next_spare += 1;
                let request = bench.client.patch(&url).json(&add_member_body(user_id));
                let sent = Instant::now();
                let body = bench.send(request, expected).await;
                let elapsed = sent.elapsed();
                if iteration == 0 {
                    // Check that the answer is what the row claims to measure.
                    match answer {
                        Answer::NoContent => assert!(body.is_empty()),
                        Answer::ExcludedMembers => {
                            let group: Value = serde_json::from_slice(&body).expect("JSON");
                            assert!(group.get("members").is_none(), "members excluded");
                        }
                        Answer::Full => {
                            let group: Value = serde_json::from_slice(&body).expect("JSON");
                            let members = group["members"].as_array().map_or(0, Vec::len);
                            assert!(members > size, "{members} members in the answer");
                        }
                    }
                }
                if iteration >= WARM_UP {
                    samples.push(elapsed);
                    body_bytes = body.len();
                }
            }
            results.push((summarize(samples), body_bytes));
        }
        let group = bench
            .get_json(&format!(
                "/scim/v2/Groups/{group_id}?excludedAttributes=members"
            ))
            .await;
        assert_eq!(group["displayName"], format!("Group of {size}"));
        patches.push(PatchRow {
            size,
            create_seconds,
            excluded: results[0].0,
            no_content: results[1].0,
            full: results[2].0,
            full_bytes: results[2].1,
        });
    }
    services
        .update_account(
            &seeded.account_id,
            AccountChanges {
                scim_patch_response: Some(ScimPatchResponse::Resource),
                ..Default::default()
            },
        )
        .await
        .expect("account setting");

    server.abort();
    database.finish().await;
    Report {
        backend: backend.to_owned(),
        users: member_count,
        seed_seconds,
        get_by_id: (get_rps, get_summary, get_latency),
        filter: (filter_rps, filter_summary, filter_latency),
        patches,
        pages,
        cursor_walk,
    }
}

fn print_report(report: &Report, config: &Config) {
    let spare = config.spare_users();
    println!(
        "\n### {} — {} SCIM Users (+{spare} outside every group, added by the PATCHes)\n",
        report.backend, report.users
    );
    println!(
        "Seeding: {:.0} s through `Services::create_scim_user` ({} tasks).\n",
        report.seed_seconds, config.seed_tasks
    );
    println!(
        "| Request | req/s ({} connections) | p50 / p95 under load | p50 / p95 sequential |",
        config.concurrency
    );
    println!("|---|---|---|---|");
    for (name, (rps, loaded, sequential)) in [
        ("`GET /Users/{id}`", report.get_by_id),
        ("`GET /Users?filter=userName eq \"…\"`", report.filter),
    ] {
        println!(
            "| {name} | {rps:.0} | {} / {} | {} / {} |",
            ms(loaded.p50),
            ms(loaded.p95),
            ms(sequential.p50),
            ms(sequential.p95)
        );
    }
    println!();
    println!(
        "| PATCH add 1 member, group of | 204 p50 / p95 | 200 `excludedAttributes=members` p50 / p95 | 200 with all members p50 / p95 (body) | create group |"
    );
    println!("|---|---|---|---|---|");
    for row in &report.patches {
        println!(
            "| {} | {} / {} | {} / {} | {} / {} ({:.1} MB) | {:.1} s |",
            row.size,
            ms(row.no_content.p50),
            ms(row.no_content.p95),
            ms(row.excluded.p50),
            ms(row.excluded.p95),
            ms(row.full.p50),
            ms(row.full.p95),
            row.full_bytes as f64 / 1_000_000.0,
            row.create_seconds
        );
    }
    println!(
        "\n(PATCH samples: {} for 204 and `excludedAttributes`, {} for the full answer.)\n",
        report.patches.first().map_or(0, |row| row.no_content.count),
        report.patches.first().map_or(0, |row| row.full.count),
    );
    println!("| `GET /Users?startIndex=…&count=100` | p50 | p95 | p99 | body |");
    println!("|---|---|---|---|---|");
    for (start_index, summary, bytes) in &report.pages {
        println!(
            "| startIndex={start_index} | {} | {} | {} | {:.0} kB |",
            ms(summary.p50),
            ms(summary.p95),
            ms(summary.p99),
            *bytes as f64 / 1000.0
        );
    }
    if let Some(walk) = &report.cursor_walk {
        println!(
            "\nThe same list by cursor (`cursor=…&count=100`, RFC 9865): {} pages in {:.1} s, \
             10 pages each:\n",
            walk.pages, walk.seconds
        );
        println!("| Cursor pages | p50 | p95 |");
        println!("|---|---|---|");
        for (name, summary) in [
            ("first 10", walk.first),
            ("middle 10", walk.middle),
            ("last 10", walk.last),
        ] {
            println!("| {name} | {} | {} |", ms(summary.p50), ms(summary.p95));
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let config = Config::from_env();
    let backends = settings::backends();
    let runtime = server::runtime();
    for backend in &backends {
        let report = runtime.block_on(run_backend(backend, &config));
        print_report(&report, &config);
    }
}
