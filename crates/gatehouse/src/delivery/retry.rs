//! When a failed delivery is tried again. Xurrent tries a message at most 10 times with growing
//! waits; the waits are the Standard Webhooks suggestion — at once, then after 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — each spread by up to ±20 % so that receivers
//! coming back from an outage are not hit by every retry at the same second. A receiver that
//! answers 429 or 503 with `Retry-After` gets the wait it asks for, kept within the schedule's
//! bounds (5 s to 24 h): a receiver can slow us down, not make us hammer it or wait for ever.
//!
//! Pure: the caller passes the random jitter and the clock, so tests pin every value.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Attempts per message, the first included.
pub const MAX_ATTEMPTS: u32 = 10;

/// The wait before each attempt, in seconds: `RETRY_SCHEDULE_SECS[n]` precedes attempt `n + 1`.
pub const RETRY_SCHEDULE_SECS: [u64; MAX_ATTEMPTS as usize] = [
    0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400,
];

/// How far a scheduled wait may be moved either way, in percent.
pub const JITTER_PERCENT: u64 = 20;

/// The shortest and longest waits a `Retry-After` can ask for.
const RETRY_AFTER_BOUNDS_SECS: (u64, u64) = (RETRY_SCHEDULE_SECS[1], RETRY_SCHEDULE_SECS[9]);

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again after this wait.
    After(Duration),
    /// The message had its `MAX_ATTEMPTS`: it is failed for good.
    GiveUp,
}

/// What follows the failure of attempt number `failed_attempt` (1 for the first).
///
/// `jitter` is a uniform random value in `[-1.0, 1.0]` (see [`random_jitter`]); it moves the
/// scheduled wait by up to `JITTER_PERCENT`. `retry_after` is the receiver's `Retry-After`,
/// honoured (without jitter) only on 429 and 503, as RFC 9110 §10.2.3 gives it meaning there.
pub fn next_attempt(
    failed_attempt: u32,
    status: Option<u16>,
    retry_after: Option<Duration>,
    jitter: f64,
) -> NextAttempt {
    if failed_attempt == 0 || failed_attempt >= MAX_ATTEMPTS {
        return NextAttempt::GiveUp;
    }
    if let (Some(429 | 503), Some(asked)) = (status, retry_after) {
        let (shortest, longest) = RETRY_AFTER_BOUNDS_SECS;
        return NextAttempt::After(
            asked.clamp(Duration::from_secs(shortest), Duration::from_secs(longest)),
        );
    }
    let index = usize::try_from(failed_attempt).unwrap_or(usize::MAX);
    let scheduled_ms = RETRY_SCHEDULE_SECS[index] * 1_000;
    let spread_ms = scheduled_ms * JITTER_PERCENT / 100;
    let jitter = jitter.clamp(-1.0, 1.0);
    // |offset| ≤ spread_ms ≤ 17,280,000, so the float round trip is exact to the millisecond.
    let offset_ms = (jitter * spread_ms as f64).round() as i64;
    let wait_ms = scheduled_ms.saturating_add_signed(offset_ms);
    NextAttempt::After(Duration::from_millis(wait_ms))
}

/// A uniform value in `[-1.0, 1.0]` from the OS's randomness (0 if it is unavailable, which
/// only loses the spread).
pub fn random_jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// A `Retry-After` header value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as the wait
/// from `now`. `None` when it is neither (or a date in the past: no wait is asked for).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn wait(failed_attempt: u32, jitter: f64) -> Duration {
        match next_attempt(failed_attempt, Some(500), None, jitter) {
            NextAttempt::After(wait) => wait,
            NextAttempt::GiveUp => panic!("gave up after attempt {failed_attempt}"),
        }
    }

    #[test]
    fn the_schedule_is_standard_webhooks_and_ends_after_ten_attempts() {
        let waits: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|attempt| wait(attempt, 0.0).as_secs())
            .collect();
        assert_eq!(
            waits,
            [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400]
        );
        assert_eq!(next_attempt(10, Some(500), None, 0.0), NextAttempt::GiveUp);
        assert_eq!(next_attempt(0, None, None, 0.0), NextAttempt::GiveUp);
    }

    #[test]
    fn jitter_moves_a_wait_by_at_most_twenty_percent() {
        assert_eq!(wait(1, -1.0), Duration::from_secs(4));
        assert_eq!(wait(1, 1.0), Duration::from_secs(6));
        assert_eq!(wait(9, 0.5), Duration::from_secs(86_400 + 8_640));
        assert_eq!(
            wait(2, 7.0),
            Duration::from_secs(360),
            "out-of-range jitter is clamped"
        );
        for _ in 0..1_000 {
            let jitter = random_jitter();
            assert!((-1.0..=1.0).contains(&jitter), "{jitter}");
            let wait = wait(3, jitter).as_millis();
            assert!((1_440_000..=2_160_000).contains(&wait), "{wait}");
        }
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_within_the_schedule_bounds() {
        let asked = |status, seconds| {
            next_attempt(2, Some(status), Some(Duration::from_secs(seconds)), 1.0)
        };
        assert_eq!(asked(429, 60), NextAttempt::After(Duration::from_secs(60)));
        assert_eq!(asked(503, 1), NextAttempt::After(Duration::from_secs(5)));
        assert_eq!(
            asked(503, 999_999),
            NextAttempt::After(Duration::from_secs(86_400))
        );
        // Other statuses keep the schedule: Retry-After means nothing on a 500.
        assert_eq!(asked(500, 60), NextAttempt::After(Duration::from_secs(360)));
        assert_eq!(
            next_attempt(10, Some(429), Some(Duration::from_secs(60)), 0.0),
            NextAttempt::GiveUp
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 29, 8, 49, 37)
            .single()
            .expect("time");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 08:51:37 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 08:00:00 GMT", now),
            None,
            "past"
        );
        for bad in ["", "-5", "1.5", "soon", "120s"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
