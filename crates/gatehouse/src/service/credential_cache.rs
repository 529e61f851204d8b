//! Short-lived, in-process caches of what nearly every request reads: bearer-token credentials
//! and the account's SCIM provisioning secrets (so authenticating costs a hash and a map lookup
//! instead of a database round trip), and the accounts requests act in.
//!
//! Correctness rests on invalidation, not on the time-to-live: every command of this process
//! that can weaken a credential (revoking a token or a provisioning secret, rotating one,
//! changing a person's roles or disabling them) or change an account bumps a generation
//! counter, which makes every cached entry stale at once. Other processes sharing a PostgreSQL
//! database learn of such changes through LISTEN/NOTIFY and bump theirs. The time-to-live only
//! bounds how long a change made where no notification reaches us (the admin CLI on a SQLite
//! file, a listener reconnecting) can go unseen.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::{Account, AccountId, ProvisioningSecret};
use crate::store::Credential;

/// The default time-to-live; see the module documentation for why it can be short.
pub const DEFAULT_CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// Beyond this many entries a shard is emptied before inserting: a crude bound that keeps
/// memory flat when many keys are used at once, at the price of some misses.
const MAX_ENTRIES_PER_SHARD: usize = 4_096;
const SHARDS: usize = 16;

/// Credentials by their token's SHA-256.
pub type CredentialCache = GenerationCache<[u8; 32], Arc<Credential>>;
/// Accounts by id, as requests read them (never for a read-modify-write).
pub type AccountCache = GenerationCache<AccountId, Account>;
/// SCIM provisioning secrets by their SHA-256.
pub type ProvisioningCache = GenerationCache<[u8; 32], Arc<ProvisioningSecret>>;

struct Entry<V> {
    value: V,
    generation: u64,
    fetched_at: Instant,
}

pub struct GenerationCache<K, V> {
    shards: Vec<Mutex<HashMap<K, Entry<V>>>>,
    hasher: RandomState,
    generation: AtomicU64,
    ttl: Duration,
}

impl<K: Hash + Eq, V: Clone> GenerationCache<K, V> {
    /// A cache whose entries live at most `ttl`; `Duration::ZERO` turns caching off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    fn shard(&self, key: &K) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The generation to pass to `insert` for a value about to be read from the store: read it
    /// *before* the store, so an invalidation racing the read wins.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let generation = self.generation();
        let shard = self.shard(key);
        let entry = shard.get(key)?;
        let fresh = entry.generation == generation
            && now.saturating_duration_since(entry.fetched_at) < self.ttl;
        fresh.then(|| entry.value.clone())
    }

    pub fn insert(&self, key: K, value: V, generation: u64, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut shard = self.shard(&key);
        if shard.len() >= MAX_ENTRIES_PER_SHARD {
            shard.clear();
        }
        shard.insert(
            key,
            Entry {
                value,
                generation,
                fetched_at: now,
            },
        );
    }

    /// The value for `key`: cached when fresh, else what `load` reads (which is then kept;
    /// `None`, nothing found, is not).
    pub async fn get_or_load<E, Load>(&self, key: &K, load: Load) -> Result<Option<V>, E>
    where
        K: Clone,
        Load: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(value) = self.get(key, Instant::now()) {
            return Ok(Some(value));
        }
        let generation = self.generation();
        let Some(value) = load.await? else {
            return Ok(None);
        };
        self.insert(key.clone(), value.clone(), generation, Instant::now());
        Ok(Some(value))
    }

    /// Makes every cached entry stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl<K: Hash + Eq + Clone, T: Clone> GenerationCache<K, Arc<T>> {
    /// Caches `value` as `change` leaves it (a use just recorded), unless the cache was emptied
    /// since `generation`, read before the change was written.
    pub fn keep_changed(&self, key: &K, value: &T, change: impl FnOnce(&mut T), generation: u64) {
        let mut changed = value.clone();
        change(&mut changed);
        self.insert(key.clone(), Arc::new(changed), generation, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::auth::{RoleSet, ScopeSet, TokenHash, TokenSecret};
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
        cache.insert(*hash.as_bytes(), credential(&hash), cache.generation(), at);
        (cache, hash)
    }

    #[test]
    fn a_cached_credential_is_served_until_its_ttl_runs_out() {
        let start = Instant::now();
        let (cache, hash) = holding_one(Duration::from_secs(2), start);
        assert!(
            cache
                .get(hash.as_bytes(), start + Duration::from_millis(1_999))
                .is_some()
        );
        assert!(
            cache
                .get(hash.as_bytes(), start + Duration::from_secs(2))
                .is_none()
        );
    }

    #[test]
    fn invalidation_makes_every_entry_stale_at_once() {
        let now = Instant::now();
        let (cache, hash) = holding_one(Duration::from_secs(60), now);
        cache.invalidate_all();
        assert!(cache.get(hash.as_bytes(), now).is_none());
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_never_served() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let hash = TokenSecret::generate().hash();
        let generation_before_read = cache.generation();
        cache.invalidate_all(); // a revocation commits while the store read is in flight
        let now = Instant::now();
        cache.insert(
            *hash.as_bytes(),
            credential(&hash),
            generation_before_read,
            now,
        );
        assert!(cache.get(hash.as_bytes(), now).is_none());
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let now = Instant::now();
        let (cache, hash) = holding_one(Duration::ZERO, now);
        assert!(cache.get(hash.as_bytes(), now).is_none());
    }

    #[test]
    fn a_full_shard_is_emptied_rather_than_grown() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..(MAX_ENTRIES_PER_SHARD * SHARDS * 2) {
            let hash = TokenSecret::generate().hash();
            cache.insert(*hash.as_bytes(), credential(&hash), cache.generation(), now);
        }
        let total: usize = cache
            .shards
            .iter()
            .map(|shard| shard.lock().expect("lock").len())
            .sum();
        assert!(total <= MAX_ENTRIES_PER_SHARD * SHARDS);
    }
}
