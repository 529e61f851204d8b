//! Per-token rate limiting: a fixed window per key. A fixed window is the simplest scheme whose
//! numbers clients can read straight off the headers (limit, remaining, seconds to reset); its
//! known weakness, up to twice the limit across a window boundary, is fine for protecting the
//! service from runaway scripts, which is all this is for.
//!
//! One process (SQLite) counts in memory, exactly. Processes that share a database
//! (PostgreSQL) count together: windows are aligned to the clock, and a process spends a
//! reservation of the window's limit taken from the database (`QuotaStore`), a fiftieth of the
//! limit at a time, so the nodes together never allow more than the limit and the database
//! sees one statement per reservation, not per request. A reservation a node does not spend by
//! the window's end is lost to the others (at most a fiftieth of the limit per node). If the
//! database can't be reached the request is let through: the limit protects the service, and
//! the request will meet the same database.
//!
//! Keys are spread over sharded mutexes so concurrent requests rarely contend, and locks are
//! held only for a map lookup (never across an await). Expired windows are swept out every
//! `SWEEP_EVERY_CHECKS` checks of a shard, so memory holds the keys active in the current
//! window plus at most that many newcomers per shard, never every key ever seen.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use uuid::Uuid;

use crate::service::Services;

const SHARD_COUNT: usize = 16;
/// How many checks a shard handles between sweeps: bounds the stale windows a shard can hold
/// while keeping the sweep's cost per check negligible.
const SWEEP_EVERY_CHECKS: u32 = 256;

/// The verdict for one request and the numbers for its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// Requests allowed per window; 0 when limiting is disabled.
    pub limit: u32,
    /// Requests left in the current window after this one.
    pub remaining: u32,
    /// Whole seconds (rounded up) until the window resets.
    pub reset_after_secs: u64,
}

impl RateDecision {
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` and, when refused,
    /// `Retry-After`; nothing when limiting is disabled. `X-RateLimit-Reset` is the Unix second
    /// at which the window resets (Xurrent's and GitHub's convention), counted from `now_secs`;
    /// `Retry-After` is the seconds until then (RFC 9110 §10.2.3).
    pub fn headers(&self, now_secs: i64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if self.limit == 0 {
            return headers;
        }
        headers.insert(
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(self.limit),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(self.remaining),
        );
        let reset_after = i64::try_from(self.reset_after_secs).unwrap_or(i64::MAX);
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(now_secs.saturating_add(reset_after)),
        );
        if !self.allowed {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(self.reset_after_secs),
            );
        }
        headers
    }
}

/// One key's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started_at: Instant,
    used: u32,
}

/// One key's share of the current clock-aligned window, counted with other processes.
#[derive(Debug, Clone, Copy)]
struct Share {
    /// The window's start, Unix seconds.
    window_start: i64,
    /// Reserved by this process in the database.
    reserved: u32,
    /// Spent of `reserved`.
    used: u32,
    /// Of the limit, reserved by all processes as of this process's last reservation.
    taken: u32,
    /// The database granted nothing: refuse until the window ends, without asking again.
    exhausted: bool,
}

impl Share {
    fn new(window_start: i64) -> Self {
        Self {
            window_start,
            reserved: 0,
            used: 0,
            taken: 0,
            exhausted: false,
        }
    }
}

#[derive(Debug, Default)]
struct Shard {
    windows: HashMap<Uuid, Window>,
    shares: HashMap<Uuid, Share>,
    checks_since_sweep: u32,
}

/// Counts requests per key (a token id) in fixed windows. Share it through an `Arc`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    shards: Vec<Mutex<Shard>>,
    shard_hasher: RandomState,
    /// Where the count is shared with other processes (the database's `QuotaStore`), or
    /// `None` to count in memory.
    shared: Option<Services>,
}

/// Reservations are this fraction of the limit (at least 1, at most `MAX_RESERVATION`).
const RESERVATIONS_PER_WINDOW: u32 = 50;
const MAX_RESERVATION: u32 = 100;

impl RateLimiter {
    /// Allows `limit` requests per key per `window` in this process; `limit == 0` disables
    /// limiting.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            shards: (0..SHARD_COUNT)
                .map(|_| Mutex::new(Shard::default()))
                .collect(),
            shard_hasher: RandomState::new(),
            shared: None,
        }
    }

    /// As `new`, counting with every process of `services`' database when they share one
    /// (PostgreSQL), in this process otherwise.
    pub fn for_services(limit: u32, window: Duration, services: &Services) -> Self {
        Self {
            shared: services.store.quotas_shared().then(|| services.clone()),
            ..Self::new(limit, window)
        }
    }

    /// Counts one request by `key` and says whether it may proceed: in this process (at `now`)
    /// or, with a shared count, against the database's window (by the services' clock).
    pub async fn admit(&self, key: Uuid, now: Instant) -> RateDecision {
        match &self.shared {
            Some(services) if self.limit > 0 => self.admit_shared(services, key).await,
            _ => self.check(key, now),
        }
    }

    /// `admit` counted with the other processes: spends this process's reservation of the
    /// window, reserving more from the database when it runs out.
    async fn admit_shared(&self, services: &Services, key: Uuid) -> RateDecision {
        let length = i64::try_from(self.window.as_secs().max(1)).unwrap_or(i64::MAX);
        let now = services.clock.now().timestamp();
        let window_start = now - now.rem_euclid(length);
        let reset_after_secs = u64::try_from(window_start + length - now).unwrap_or(1);
        if let Some(decision) = self.spend(key, window_start, reset_after_secs, None) {
            return decision;
        }
        let want = (self.limit / RESERVATIONS_PER_WINDOW).clamp(1, MAX_RESERVATION);
        let reserved = services
            .store
            .reserve_quota(&format!("token:{key}"), window_start, want, self.limit)
            .await;
        match reserved {
            Ok(grant) => self
                .spend(key, window_start, reset_after_secs, Some(grant))
                .unwrap_or(RateDecision {
                    allowed: false,
                    limit: self.limit,
                    remaining: 0,
                    reset_after_secs,
                }),
            Err(error) => {
                tracing::warn!(%error, "the shared rate limit could not be read; letting the request through");
                RateDecision {
                    allowed: true,
                    limit: self.limit,
                    remaining: 0,
                    reset_after_secs,
                }
            }
        }
    }

    /// Spends one of `key`'s reservation for the window at `window_start`, first adding
    /// `grant` to it. `None` when there is nothing to spend and the database should be asked.
    fn spend(
        &self,
        key: Uuid,
        window_start: i64,
        reset_after_secs: u64,
        grant: Option<crate::store::QuotaGrant>,
    ) -> Option<RateDecision> {
        let mut shard = self.shard(key);
        shard.checks_since_sweep += 1;
        if shard.checks_since_sweep >= SWEEP_EVERY_CHECKS {
            shard.checks_since_sweep = 0;
            shard
                .shares
                .retain(|_, share| share.window_start >= window_start);
        }
        let share = shard
            .shares
            .entry(key)
            .or_insert_with(|| Share::new(window_start));
        if share.window_start != window_start {
            *share = Share::new(window_start);
        }
        if let Some(grant) = grant {
            share.reserved += grant.granted;
            share.taken = share.taken.max(grant.taken_before + grant.granted);
            share.exhausted = grant.granted == 0;
        }
        let allowed = share.used < share.reserved;
        if allowed {
            share.used += 1;
        } else if !share.exhausted && grant.is_none() {
            return None;
        }
        Some(RateDecision {
            allowed,
            limit: self.limit,
            remaining: self.limit.saturating_sub(share.taken) + (share.reserved - share.used),
            reset_after_secs,
        })
    }

    /// Counts one request by `key` at `now` and says whether it may proceed. Refused requests
    /// do not count, so a client that keeps retrying is let in as soon as the window resets.
    pub fn check(&self, key: Uuid, now: Instant) -> RateDecision {
        if self.limit == 0 {
            return RateDecision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_after_secs: 0,
            };
        }
        let mut shard = self.shard(key);
        shard.checks_since_sweep += 1;
        if shard.checks_since_sweep >= SWEEP_EVERY_CHECKS {
            shard.checks_since_sweep = 0;
            let window = self.window;
            shard
                .windows
                .retain(|_, kept| !is_expired(kept, window, now));
        }
        let window = shard.windows.entry(key).or_insert(Window {
            started_at: now,
            used: 0,
        });
        if is_expired(window, self.window, now) {
            *window = Window {
                started_at: now,
                used: 0,
            };
        }
        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }
        // `now` may be a little older than `started_at` when threads race for the lock; then
        // the window has simply not advanced.
        let elapsed = now.saturating_duration_since(window.started_at);
        RateDecision {
            allowed,
            limit: self.limit,
            remaining: self.limit - window.used,
            reset_after_secs: ceil_secs(self.window.saturating_sub(elapsed)),
        }
    }

    /// How many keys currently hold a window (expired ones linger until their shard's sweep).
    pub fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = lock(shard);
                shard.windows.len() + shard.shares.len()
            })
            .sum()
    }

    fn shard(&self, key: Uuid) -> std::sync::MutexGuard<'_, Shard> {
        lock(&self.shards[self.shard_index(key)])
    }

    /// Hashing (rather than taking the id's low bits) spreads any ids evenly, even sequential
    /// ones; the truncating cast keeps the low bits, which is all `%` needs.
    fn shard_index(&self, key: Uuid) -> usize {
        (self.shard_hasher.hash_one(key) as usize) % SHARD_COUNT
    }
}

/// A panic while holding a shard leaves at worst a miscounted window, so poisoning is ignored
/// rather than turning every later request into a 500.
fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

fn is_expired(window: &Window, length: Duration, now: Instant) -> bool {
    now.saturating_duration_since(window.started_at) >= length
}

/// Rounds up, so a client that waits the advertised seconds finds the window reset.
fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);
    const NOW_SECS: i64 = 1_800_000_000;

    fn key(number: u128) -> Uuid {
        Uuid::from_u128(number)
    }

    /// A limiter of 2 a minute whose key 1 used both at the returned instant.
    fn spent_limiter() -> (RateLimiter, Instant) {
        let limiter = RateLimiter::new(2, MINUTE);
        let start = Instant::now();
        limiter.check(key(1), start);
        limiter.check(key(1), start);
        (limiter, start)
    }

    #[test]
    fn counts_down_then_refuses_once_exhausted() {
        let limiter = RateLimiter::new(3, MINUTE);
        let start = Instant::now();
        let remaining: Vec<(bool, u32)> = (0..4)
            .map(|second| {
                let decision = limiter.check(key(1), start + Duration::from_secs(second));
                (decision.allowed, decision.remaining)
            })
            .collect();
        assert_eq!(remaining, [(true, 2), (true, 1), (true, 0), (false, 0)]);
    }

    #[test]
    fn reset_counts_whole_seconds_up_to_the_window_end() {
        let limiter = RateLimiter::new(3, MINUTE);
        let start = Instant::now();
        assert_eq!(limiter.check(key(1), start).reset_after_secs, 60);
        assert_eq!(
            limiter
                .check(key(1), start + Duration::from_millis(10_500))
                .reset_after_secs,
            50
        );
        assert_eq!(
            limiter
                .check(key(1), start + Duration::from_secs(59))
                .reset_after_secs,
            1
        );
    }

    #[test]
    fn a_new_window_starts_after_the_old_one_ends() {
        let (limiter, start) = spent_limiter();
        assert!(
            !limiter
                .check(key(1), start + Duration::from_secs(59))
                .allowed
        );
        let decision = limiter.check(key(1), start + MINUTE);
        assert!(decision.allowed);
        assert_eq!(decision.remaining, 1);
        assert_eq!(decision.reset_after_secs, 60);
    }

    #[test]
    fn keys_are_limited_independently() {
        let limiter = RateLimiter::new(1, MINUTE);
        let now = Instant::now();
        assert!(limiter.check(key(1), now).allowed);
        assert!(!limiter.check(key(1), now).allowed);
        assert!(limiter.check(key(2), now).allowed);
    }

    #[test]
    fn refused_requests_do_not_extend_the_wait() {
        let limiter = RateLimiter::new(1, MINUTE);
        let start = Instant::now();
        limiter.check(key(1), start);
        for second in 1..60 {
            assert!(
                !limiter
                    .check(key(1), start + Duration::from_secs(second))
                    .allowed
            );
        }
        assert!(limiter.check(key(1), start + MINUTE).allowed);
    }

    #[test]
    fn zero_limit_disables_limiting_and_headers() {
        let limiter = RateLimiter::new(0, MINUTE);
        let now = Instant::now();
        for _ in 0..1_000 {
            assert!(limiter.check(key(1), now).allowed);
        }
        assert!(limiter.check(key(1), now).headers(NOW_SECS).is_empty());
        assert_eq!(limiter.tracked_keys(), 0);
    }

    #[test]
    fn headers_report_the_numbers_and_retry_after_only_when_refused() {
        let allowed = RateDecision {
            allowed: true,
            limit: 3,
            remaining: 2,
            reset_after_secs: 42,
        };
        let headers = allowed.headers(NOW_SECS);
        assert_eq!(headers["x-ratelimit-limit"], "3");
        assert_eq!(headers["x-ratelimit-remaining"], "2");
        assert_eq!(headers["x-ratelimit-reset"], (NOW_SECS + 42).to_string());
        assert!(!headers.contains_key("retry-after"));
        let refused = RateDecision {
            allowed: false,
            remaining: 0,
            ..allowed
        };
        assert_eq!(refused.headers(NOW_SECS)["retry-after"], "42");
    }

    #[test]
    fn expired_windows_are_pruned_so_memory_tracks_active_keys() {
        let limiter = RateLimiter::new(5, MINUTE);
        let start = Instant::now();
        for number in 0..1_000 {
            limiter.check(key(number), start);
        }
        assert_eq!(limiter.tracked_keys(), 1_000);
        // A window later, one active key per shard, each checked enough to trigger a sweep.
        let later = start + MINUTE;
        let mut active: Vec<Option<Uuid>> = vec![None; SHARD_COUNT];
        let mut candidate = 1_000_000;
        while active.iter().any(Option::is_none) {
            let index = limiter.shard_index(key(candidate));
            active[index].get_or_insert(key(candidate));
            candidate += 1;
        }
        for active_key in active.into_iter().flatten() {
            for _ in 0..SWEEP_EVERY_CHECKS {
                limiter.check(active_key, later);
            }
        }
        assert_eq!(
            limiter.tracked_keys(),
            SHARD_COUNT,
            "only the active keys' windows remain"
        );
    }

    #[test]
    fn windows_still_running_survive_a_sweep() {
        let (limiter, start) = spent_limiter();
        let index = limiter.shard_index(key(1));
        let neighbour = (2..)
            .map(key)
            .find(|candidate| limiter.shard_index(*candidate) == index)
            .expect("a key");
        for _ in 0..SWEEP_EVERY_CHECKS {
            limiter.check(neighbour, start + Duration::from_secs(30));
        }
        assert!(
            !limiter
                .check(key(1), start + Duration::from_secs(31))
                .allowed,
            "the count survived"
        );
    }

    #[test]
    fn concurrent_checks_never_allow_more_than_the_limit() {
        let limiter = std::sync::Arc::new(RateLimiter::new(100, MINUTE));
        let now = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .filter(|_| limiter.check(key(7), now).allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = threads
            .into_iter()
            .map(|thread| thread.join().expect("thread"))
            .sum();
        assert_eq!(allowed, 100);
    }
}
