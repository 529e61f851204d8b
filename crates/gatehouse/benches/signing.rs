//! The raw signing rate of each webhook-policy algorithm: how many compact JWS of a typical
//! message `sign_compact` makes per second on one core and on every core at once — the ceiling
//! for signed deliveries (`GATEHOUSE_BENCH_JWT_ALG=rs256 cargo bench --bench webhooks`), which
//! BENCHMARKS.md compares against it. Prints a table.
//!
//! cargo bench -p gatehouse --bench signing
//! GATEHOUSE_BENCH_SIGNING_SECONDS=3 GATEHOUSE_BENCH_ALGS=rs256,es256 cargo bench -p gatehouse --bench signing

use std::time::{Duration, Instant};

use gatehouse::delivery::signing::{
    ClaimExpiry, JwtAlgorithm, MessagePlacement, SigningKey, claims, sign_compact,
};
use serde_json::json;

fn signatures_per_second(key: &SigningKey, threads: usize, seconds: f64) -> f64 {
    let message = json!({
        "webhook_id": "0190a0b2-0000-7000-8000-000000000001",
        "webhook_nodeID": "V2ViaG9vay8wMTkwYTBiMi0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDE",
        "account_id": "acme", "account": "https://gatehouse.example/accounts/acme",
        "custom_url": "https://gatehouse.example", "name": "bench", "event": "bench.event",
        "object_id": "e1", "object_nodeID": "YmVuY2gvZTE", "person_id": null, "person_name": null,
        "instance_name": "gatehouse", "payload": {"seq": 1, "sent_ns": 1_700_000_000_000_000_000u64},
    });
    let claims = claims(
        &message,
        MessagePlacement::TopLevel,
        "https://gatehouse.example/accounts/acme",
        Some("https://receiver.example"),
        "0190a0b2-0000-7000-8000-000000000001",
        "0190a0b2-0000-7000-8000-0000000000d1",
        1_700_000_000,
        ClaimExpiry::from_minutes(5).ok(),
    );
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        std::hint::black_box(sign_compact(key, "kid", &claims).expect("signs"));
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("thread"))
            .sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; this binary takes no arguments of its own.
    let seconds: f64 = std::env::var("GATEHOUSE_BENCH_SIGNING_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2.0);
    let wanted: Vec<JwtAlgorithm> = match std::env::var("GATEHOUSE_BENCH_ALGS") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|name| name.parse().expect("an algorithm name"))
            .collect(),
        _ => JwtAlgorithm::ALL.to_vec(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!("| algorithm | signatures/s, 1 core | signatures/s, {cores} cores |");
    println!("|---|---:|---:|");
    for algorithm in wanted {
        let key = SigningKey::generate(algorithm).expect("key");
        let one = signatures_per_second(&key, 1, seconds);
        let all = signatures_per_second(&key, cores, seconds);
        println!("| {algorithm} | {one:.0} | {all:.0} |");
    }
}
