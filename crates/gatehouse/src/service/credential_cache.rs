//! A short-lived, in-process cache of bearer-token credentials, so authenticating a request
//! usually costs a hash and a map lookup instead of a database round trip.
//!
//! Correctness rests on invalidation, not on the time-to-live: every command of this process
//! that can weaken a credential (revoking a token, changing a person's roles or disabling them)
//! bumps a generation counter, which makes every cached entry stale at once. Other processes
//! sharing a PostgreSQL database learn of such changes through LISTEN/NOTIFY and bump theirs.
//! The time-to-live only bounds how long a change made where no notification reaches us (the
//! admin CLI on a SQLite file, a listener reconnecting) can go unseen.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::TokenHash;
use crate::store::Credential;

/// The default time-to-live; see the module documentation for why it can be short.
pub const DEFAULT_CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// Beyond this many entries the cache is emptied before inserting: a crude bound that keeps
/// memory flat when many tokens are used at once, at the price of some misses.
const MAX_ENTRIES_PER_SHARD: usize = 4_096;
const SHARDS: usize = 16;

struct Entry {
    credential: Arc<Credential>,
    generation: u64,
    fetched_at: Instant,
}

pub struct CredentialCache {
    shards: Vec<Mutex<HashMap<[u8; 32], Entry>>>,
    generation: AtomicU64,
    ttl: Duration,
}

impl CredentialCache {
    /// A cache whose entries live at most `ttl`; `Duration::ZERO` turns caching off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    fn shard(&self, hash: &TokenHash) -> &Mutex<HashMap<[u8; 32], Entry>> {
        &self.shards[usize::from(hash.as_bytes()[0]) % SHARDS]
    }

    /// The generation to pass to `insert` for a credential about to be read from the store:
    /// read it *before* the store, so an invalidation racing the read wins.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, hash: &TokenHash, now: Instant) -> Option<Arc<Credential>> {
        if self.ttl.is_zero() {
            return None;
        }
        let generation = self.generation();
        let shard = self
            .shard(hash)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = shard.get(hash.as_bytes())?;
        let fresh = entry.generation == generation
            && now.saturating_duration_since(entry.fetched_at) < self.ttl;
        fresh.then(|| entry.credential.clone())
    }

    pub fn insert(
        &self,
        hash: &TokenHash,
        credential: Arc<Credential>,
        generation: u64,
        now: Instant,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut shard = self
            .shard(hash)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if shard.len() >= MAX_ENTRIES_PER_SHARD {
            shard.clear();
        }
        shard.insert(
            *hash.as_bytes(),
            Entry {
                credential,
                generation,
                fetched_at: now,
            },
        );
    }

    /// Makes every cached credential stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::auth::{RoleSet, ScopeSet, TokenSecret};
    use crate::domain::{AccountId, PersonId, TokenId};

    fn credential(hash: &TokenHash) -> Arc<Credential> {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        Arc::new(Credential {
            token_id: TokenId(Uuid::now_v7()),
            secret_hash: hash.clone(),
            account_id: AccountId::parse("acme").expect("slug"),
            person_id: PersonId(Uuid::now_v7()),
            person_name: "Ada".to_owned(),
            person_disabled: false,
            roles: RoleSet::default(),
            scopes: ScopeSet::default(),
            expires_at: at,
            revoked_at: None,
            last_used_at: None,
        })
    }

    /// A cache keeping entries for `ttl`, holding one credential inserted at `at`; and the
    /// credential's hash.
    fn holding_one(ttl: Duration, at: Instant) -> (CredentialCache, TokenHash) {
        let cache = CredentialCache::new(ttl);
        let hash = TokenSecret::generate().hash();
        cache.insert(&hash, credential(&hash), cache.generation(), at);
        (cache, hash)
    }

    #[test]
    fn a_cached_credential_is_served_until_its_ttl_runs_out() {
        let start = Instant::now();
        let (cache, hash) = holding_one(Duration::from_secs(2), start);
        assert!(
            cache
                .get(&hash, start + Duration::from_millis(1_999))
                .is_some()
        );
        assert!(cache.get(&hash, start + Duration::from_secs(2)).is_none());
    }

    #[test]
    fn invalidation_makes_every_entry_stale_at_once() {
        let now = Instant::now();
        let (cache, hash) = holding_one(Duration::from_secs(60), now);
        cache.invalidate_all();
        assert!(cache.get(&hash, now).is_none());
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_never_served() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let hash = TokenSecret::generate().hash();
        let generation_before_read = cache.generation();
        cache.invalidate_all(); // a revocation commits while the store read is in flight
        let now = Instant::now();
        cache.insert(&hash, credential(&hash), generation_before_read, now);
        assert!(cache.get(&hash, now).is_none());
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let now = Instant::now();
        let (cache, hash) = holding_one(Duration::ZERO, now);
        assert!(cache.get(&hash, now).is_none());
    }

    #[test]
    fn a_full_shard_is_emptied_rather_than_grown() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..(MAX_ENTRIES_PER_SHARD * SHARDS * 2) {
            let hash = TokenSecret::generate().hash();
            cache.insert(&hash, credential(&hash), cache.generation(), now);
        }
        let total: usize = cache
            .shards
            .iter()
            .map(|shard| shard.lock().expect("lock").len())
            .sum();
        assert!(total <= MAX_ENTRIES_PER_SHARD * SHARDS);
    }
}
