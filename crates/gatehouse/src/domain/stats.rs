//! What the console charts: attempts per hour by outcome with a histogram of their durations,
//! and SCIM changes per day — kept as they happen (`store/shared/rollups.rs`), read as these.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The upper bounds, in milliseconds, of the duration buckets an attempt is counted in; one
/// more bucket holds everything longer.
pub const LATENCY_BOUNDS_MS: [u64; 10] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// The bucket an attempt of `duration_ms` is counted in (0 to 10).
pub fn latency_bucket(duration_ms: u64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|bound| duration_ms <= *bound)
        .unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// Attempts in one period (an hour, or a day of hours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptCounts {
    pub succeeded: u64,
    /// Failed attempts that will be tried again.
    pub retrying: u64,
    /// Failed attempts that ended their delivery.
    pub failed: u64,
    /// Attempts by duration, as [`LATENCY_BOUNDS_MS`] buckets them.
    pub latency: [u64; LATENCY_BOUNDS_MS.len() + 1],
}

impl AttemptCounts {
    pub fn total(&self) -> u64 {
        self.succeeded + self.retrying + self.failed
    }

    pub fn add(&mut self, other: &Self) {
        self.succeeded += other.succeeded;
        self.retrying += other.retrying;
        self.failed += other.failed;
        for (mine, theirs) in self.latency.iter_mut().zip(other.latency) {
            *mine += theirs;
        }
    }

    /// The duration under which `percent` of the attempts took, as the upper bound of the
    /// bucket it falls in (`None` without attempts, or in the open last bucket).
    pub fn latency_percentile_ms(&self, percent: u64) -> Option<u64> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (total * percent).div_ceil(100).max(1);
        let mut seen = 0;
        for (bucket, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return LATENCY_BOUNDS_MS.get(bucket).copied();
            }
        }
        None
    }
}

/// The attempts of one hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourlyAttempts {
    pub hour: DateTime<Utc>,
    pub counts: AttemptCounts,
}

/// SCIM Users created, updated and deactivated on one UTC day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScimChanges {
    pub day: DateTime<Utc>,
    pub created: u64,
    pub updated: u64,
    pub deactivated: u64,
}

/// The start of the hour `at` falls in.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

/// The start of the UTC day `at` falls in.
pub fn day_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::days(1)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_fall_in_the_bucket_of_their_bound() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(10), 0);
        assert_eq!(latency_bucket(11), 1);
        assert_eq!(latency_bucket(10_000), 9);
        assert_eq!(latency_bucket(10_001), 10);
    }

    #[test]
    fn percentiles_are_bucket_bounds() {
        let mut counts = AttemptCounts::default();
        assert_eq!(counts.latency_percentile_ms(50), None);
        counts.latency[0] = 90; // ≤ 10 ms
        counts.latency[4] = 9; // ≤ 250 ms
        counts.latency[10] = 1; // longer than 10 s
        assert_eq!(counts.latency_percentile_ms(50), Some(10));
        assert_eq!(counts.latency_percentile_ms(90), Some(10));
        assert_eq!(counts.latency_percentile_ms(95), Some(250));
        assert_eq!(counts.latency_percentile_ms(99), Some(250));
        assert_eq!(
            counts.latency_percentile_ms(100),
            None,
            "in the open bucket"
        );
    }
}
