//! What authenticating one request costs: parsing and hashing the bearer token, the credential
//! lookup (token, owner and roles in one query) and the checks, on a warm database. The target
//! (BENCHMARKS.md) is < 20 µs on SQLite. Measured with the credential cache (the normal path)
//! and without it (every request reads the store), on each backend.
//!
//! `cargo bench -p gatehouse --bench token_authentication`; PostgreSQL is measured too when
//! `GATEHOUSE_TEST_POSTGRES_URL` names one.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::auth::{RoleSet, ScopeSet, TokenSecret};
use gatehouse::service::{NewAccount, NewPerson, NewToken, Services, SystemClock, TokenExpiry};
use gatehouse::store::{self, Store};

/// An account with 1,000 people and 10,000 tokens, so the lookup is an index probe, not a scan
/// of a tiny table; returns one token's secret.
async fn seed(store: Arc<dyn Store>) -> (Services, String) {
    store.migrate().await.expect("migrate");
    let services = Services::new(store, Arc::new(SystemClock));
    let account_id = format!("bench-{}", Utc::now().timestamp_micros());
    let account = services
        .create_account(NewAccount {
            id: account_id,
            name: "Bench".to_owned(),
        })
        .await
        .expect("account");
    let mut secret = String::new();
    for person_index in 0..1_000 {
        let person = services
            .create_person(
                &account,
                None,
                NewPerson {
                    name: format!("Person {person_index}"),
                    primary_email: format!("p{person_index}@example.org"),
                    job_title: None,
                    employee_number: None,
                    disabled: false,
                    roles: RoleSet::parse(["specialist", "directory_administrator"])
                        .expect("roles"),
                },
            )
            .await
            .expect("person");
        for _ in 0..10 {
            let new = NewToken {
                name: "bench".to_owned(),
                description: None,
                scopes: ScopeSet::parse(["people:read"]).expect("scopes"),
                expiry: TokenExpiry::InDays(30),
            };
            let created = services
                .create_token(&account, None, &person, new)
                .await
                .expect("token");
            secret = created.secret.expose().to_owned();
        }
    }
    (services, secret)
}

fn authentication(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let folder = tempfile::tempdir().expect("temporary folder");
    let mut backends = vec![(
        "sqlite",
        format!("sqlite://{}/bench.db", folder.path().display()),
    )];
    if let Ok(url) = std::env::var("GATEHOUSE_TEST_POSTGRES_URL") {
        backends.push(("postgres", url));
    }

    let mut group = criterion.benchmark_group("token_authentication");
    let secret = TokenSecret::generate();
    group.bench_function("parse_and_hash", |bencher| {
        bencher.iter(|| {
            TokenSecret::parse(std::hint::black_box(secret.expose()))
                .expect("valid")
                .hash()
        })
    });
    for (name, url) in backends {
        let (services, secret) = runtime.block_on(async {
            let store = store::connect(&url, store::SqliteSynchronous::Full)
                .await
                .expect("connect");
            seed(store).await
        });
        // Warm the caches, and set last_used_at so the measured requests are pure reads.
        runtime
            .block_on(services.authenticate(&secret, None))
            .expect("authenticates");
        // The same store without the credential cache: the database lookup on every request.
        let uncached = Services::with_credential_cache_ttl(
            services.store.clone(),
            services.clock.clone(),
            Duration::ZERO,
        );
        for (cache, services) in [("cached", &services), ("uncached", &uncached)] {
            group.bench_function(format!("authenticate_{name}_{cache}"), |bencher| {
                bencher.to_async(&runtime).iter(|| async {
                    services
                        .authenticate(std::hint::black_box(&secret), None)
                        .await
                        .expect("authenticates")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, authentication);
criterion_main!(benches);
