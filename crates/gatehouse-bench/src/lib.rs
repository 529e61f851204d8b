//! What `bench-receiver` and `bench-load` share: the clock, the bench event's payload, and the
//! arithmetic that turns receipts into a verdict (every delivery exactly once?) and percentiles.
//!
//! The two binaries run as separate processes beside the `gatehouse serve` processes under
//! test, orchestrated by `scripts/bench-delivery`. They talk to each other only through the
//! server: the load generator writes its send time into each event's payload, and the receiver
//! subtracts it from the time the message arrived. Both read the same wall clock (one machine),
//! so the difference is the publish → receipt latency.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The custom event every bench message carries; the webhooks listen to `bench.*`.
pub const EVENT: &str = "bench.delivery";

/// Wall-clock nanoseconds since the Unix epoch: the clock both processes share.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The payload of a bench event, as published and as it comes back inside the message.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BenchPayload {
    /// The event's number, 0 to events − 1.
    pub seq: u64,
    /// When the load generator sent the `POST /v1/events` ([`now_ns`]).
    pub sent_ns: u64,
}

/// One bench message as the receiver got it.
#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    /// The webhook's number: the receiver's path is `/hook/{webhook}`.
    pub webhook: u32,
    pub seq: u64,
    pub sent_ns: u64,
    pub received_ns: u64,
    /// The `X-Gatehouse-Delivery` header.
    pub delivery: u128,
}

/// p50, p99 and maximum of a set of samples, in milliseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The sample at `percent` (nearest rank: the smallest sample with at least `percent` % of the
/// samples at or below it). `sorted` must be sorted and not empty.
pub fn percentile(sorted: &[u64], percent: u32) -> u64 {
    let rank = (sorted.len() * percent as usize).div_ceil(100);
    sorted[rank.saturating_sub(1)]
}

/// Summarizes samples given in nanoseconds.
pub fn summarize(mut samples_ns: Vec<u64>) -> Summary {
    if samples_ns.is_empty() {
        return Summary::default();
    }
    samples_ns.sort_unstable();
    let ms = |nanos: u64| nanos as f64 / 1e6;
    Summary {
        count: samples_ns.len(),
        p50_ms: ms(percentile(&samples_ns, 50)),
        p99_ms: ms(percentile(&samples_ns, 99)),
        max_ms: ms(samples_ns[samples_ns.len() - 1]),
    }
}

/// What the receiver got, checked against what was published: events 0 to `events` − 1, each
/// to webhooks 0 to `webhooks` − 1.
#[derive(Debug, Default, Serialize)]
pub struct Tally {
    /// Distinct delivery ids received.
    pub unique: usize,
    /// Messages repeating a delivery id already received (at-least-once resends).
    pub duplicates: usize,
    /// (event, webhook) pairs that arrived under two or more delivery ids: an event queued twice.
    pub doubled: usize,
    /// (event, webhook) pairs that never arrived.
    pub missing: usize,
    /// Distinct deliveries for events or webhooks outside the published range.
    pub unexpected: usize,
    /// First and last receipt of a distinct delivery (wall clock, ns), 0 when none.
    pub first_ns: u64,
    pub last_ns: u64,
    /// Distinct deliveries per second from the first receipt to the last.
    pub per_second: f64,
    /// Publish → receipt, over distinct deliveries (the first receipt of each).
    pub latency: Summary,
}

impl Tally {
    pub fn of(receipts: &[Receipt], events: u64, webhooks: u32) -> Self {
        let mut tally = Tally::default();
        // The first receipt of each delivery id counts; later ones are duplicates.
        let mut seen: HashSet<u128> = HashSet::with_capacity(receipts.len());
        // Delivery ids per (event, webhook), to find events that arrived more than once.
        let mut per_pair: HashMap<(u64, u32), usize> = HashMap::with_capacity(receipts.len());
        let mut latencies = Vec::with_capacity(receipts.len());
        for receipt in receipts {
            if !seen.insert(receipt.delivery) {
                tally.duplicates += 1;
                continue;
            }
            tally.unique += 1;
            if tally.first_ns == 0 || receipt.received_ns < tally.first_ns {
                tally.first_ns = receipt.received_ns;
            }
            tally.last_ns = tally.last_ns.max(receipt.received_ns);
            latencies.push(receipt.received_ns.saturating_sub(receipt.sent_ns));
            if receipt.seq >= events || receipt.webhook >= webhooks {
                tally.unexpected += 1;
            } else {
                *per_pair.entry((receipt.seq, receipt.webhook)).or_default() += 1;
            }
        }
        tally.doubled = per_pair.values().filter(|&&ids| ids > 1).count();
        tally.missing = (events * u64::from(webhooks)) as usize - per_pair.len();
        let span_ns = tally.last_ns.saturating_sub(tally.first_ns);
        if tally.unique > 1 && span_ns > 0 {
            // n receipts span n − 1 intervals.
            tally.per_second = (tally.unique - 1) as f64 / (span_ns as f64 / 1e9);
        }
        tally.latency = summarize(latencies);
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50), 50);
        assert_eq!(percentile(&samples, 99), 99);
        assert_eq!(percentile(&samples, 100), 100);
        // With few samples p99 is the maximum, never past the end.
        assert_eq!(percentile(&[7, 8, 9], 99), 9);
        assert_eq!(percentile(&[7], 50), 7);
        // p50 of an even count is the lower middle sample, not an average.
        assert_eq!(percentile(&[1, 2, 3, 4], 50), 2);

        let summary = summarize(vec![3_000_000, 1_000_000, 2_000_000]);
        assert_eq!(summary.count, 3);
        assert_eq!(summary.p50_ms, 2.0);
        assert_eq!(summary.max_ms, 3.0);
        assert_eq!(summarize(Vec::new()), Summary::default());
    }

    fn receipt(delivery: u128, seq: u64, webhook: u32, received_ns: u64) -> Receipt {
        Receipt {
            webhook,
            seq,
            sent_ns: received_ns - 1_000_000,
            received_ns,
            delivery,
        }
    }

    #[test]
    fn tally_tells_resends_doubles_gaps_and_strays_apart() {
        let second = 1_000_000_000;
        let receipts = [
            receipt(1, 0, 0, 10 * second),
            receipt(2, 0, 1, 11 * second),
            receipt(1, 0, 0, 12 * second), // the same delivery again: a resend
            receipt(3, 1, 0, 12 * second),
            receipt(4, 1, 0, 13 * second), // event 1 to webhook 0 under a second id
            receipt(5, 9, 0, 14 * second), // event 9 was never published
        ];
        // Published: events 0..3 to webhooks 0..2, six pairs; (1, 1), (2, 0), (2, 1) missing.
        let tally = Tally::of(&receipts, 3, 2);
        assert_eq!(tally.unique, 5);
        assert_eq!(tally.duplicates, 1);
        assert_eq!(tally.doubled, 1);
        assert_eq!(tally.unexpected, 1);
        assert_eq!(tally.missing, 3);
        assert_eq!((tally.first_ns, tally.last_ns), (10 * second, 14 * second));
        // Five distinct receipts over four seconds: four intervals.
        assert_eq!(tally.per_second, 1.0);
        assert_eq!(tally.latency.count, 5);
        assert_eq!(tally.latency.p99_ms, 1.0);
    }

    #[test]
    fn a_complete_run_has_nothing_to_report() {
        let receipts: Vec<Receipt> = (0..4u64)
            .flat_map(|seq| (0..3u32).map(move |webhook| (seq, webhook)))
            .enumerate()
            .map(|(n, (seq, webhook))| receipt(n as u128, seq, webhook, 1_000_000 * (n as u64 + 1)))
            .collect();
        let tally = Tally::of(&receipts, 4, 3);
        assert_eq!(tally.unique, 12);
        assert_eq!(
            (
                tally.duplicates,
                tally.doubled,
                tally.missing,
                tally.unexpected
            ),
            (0, 0, 0, 0)
        );
    }
}
