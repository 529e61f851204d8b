//! Signs each attempt just before it is sent (docs/ARCHITECTURE.md "The delivery state machine").
//!
//! - A webhook linked to an enabled policy sends a compact JWS signed with the policy's current
//!   key (`kid` in the header), its claims made afresh for the attempt (new `iat`/`exp`, the
//!   same `jti`). Asymmetric signing (RSA especially) takes CPU time: it runs on a pool of
//!   threads of its own, one per core, that take the next signature from a queue as soon as one
//!   is done — the executor that moves the other deliveries never waits for one, and no core
//!   idles between two signatures while attempts wait for theirs.
//! - Any other webhook sends its JSON message with Standard Webhooks headers, signed (HMAC,
//!   microseconds) with every live secret of the webhook.
//!
//! Keys and secrets are read through [`SigningMaterial`] and opened once, then kept for
//! `REFRESH`. A rotation drops them at once (`SigningMaterial::changes`): made through this
//! process, or on
//! another node sharing a PostgreSQL database (LISTEN/NOTIFY, when `serve` follows changes);
//! `REFRESH` bounds what no signal reaches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::ports::SigningMaterial;
use super::signing::standard_webhooks::{self, WebhookSecret};
use super::signing::{MessagePlacement, SigningKey, claims, sign_compact, signed_body};
use crate::domain::{
    JwtFormat, PolicyKey, WebhookId, WebhookPolicyId, account_issuer, discovery_issuer,
    signing_key_at,
};
use crate::store::{ClaimedDelivery, ClaimedPolicy};

/// How long keys and secrets read from the store are used before they are read again.
const REFRESH: Duration = Duration::from_secs(1);

/// What an attempt sends: the body, the headers that say how it is signed, and which policy key
/// signed it.
#[derive(Debug)]
pub struct SignedRequest {
    /// What is sent instead of the message (a JWS, made for this attempt); `None` sends the
    /// message itself.
    pub body: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
    /// The policy and key (`kid`) that signed the body; `None` for Standard Webhooks.
    pub signed_by: Option<(Uuid, String)>,
}

struct PolicyKeys {
    read_at: Instant,
    generation: u64,
    records: Vec<PolicyKey>,
    /// Each record's key, opened, by key id.
    opened: HashMap<String, Arc<SigningKey>>,
}

struct Secrets {
    read_at: Instant,
    generation: u64,
    /// When the first of them stops signing: the list is stale from then on.
    first_expiry: Option<DateTime<Utc>>,
    secrets: Arc<Vec<WebhookSecret>>,
}

pub struct Signer {
    material: Arc<dyn SigningMaterial>,
    /// The public base URL: a signed message's issuer is the account's URL under it.
    base_url: String,
    /// Threads that make the asymmetric signatures, one per core.
    pool: SigningPool,
    policies: Mutex<HashMap<WebhookPolicyId, Arc<PolicyKeys>>>,
    secrets: Mutex<HashMap<WebhookId, Secrets>>,
}

impl Signer {
    pub fn new(material: Arc<dyn SigningMaterial>, base_url: &str) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        Self {
            material,
            base_url: base_url.trim_end_matches('/').to_owned(),
            pool: SigningPool::start(cores),
            policies: Mutex::new(HashMap::new()),
            secrets: Mutex::new(HashMap::new()),
        }
    }

    /// Signs `message` (the delivery's JSON message) for one attempt made at `now`. An error
    /// means nothing may be sent: a webhook a policy signs for never sends unsigned.
    pub async fn sign(
        &self,
        delivery: &ClaimedDelivery,
        message: &[u8],
        now: DateTime<Utc>,
    ) -> Result<SignedRequest, String> {
        match &delivery.policy {
            Some(policy) => self.sign_jwt(delivery, policy, message, now).await,
            None => self.sign_standard(delivery, message, now).await,
        }
    }

    async fn sign_jwt(
        &self,
        delivery: &ClaimedDelivery,
        policy: &ClaimedPolicy,
        message: &[u8],
        now: DateTime<Utc>,
    ) -> Result<SignedRequest, String> {
        let keys = self.policy_keys(policy.id).await?;
        let record = signing_key_at(&keys.records, now)
            .ok_or_else(|| format!("webhook policy {} has no key that signs now", policy.id))?;
        let key = keys.opened.get(&record.id).ok_or_else(|| {
            format!(
                "webhook policy {}'s key {} is not open",
                policy.id, record.id
            )
        })?;
        // A key signs with its own algorithm, which its `kid` and the JWS header name: just
        // after `jwt_alg` changed, an attempt claimed before may still be signed by the
        // previous key, as during a rotation.
        let message: serde_json::Value = serde_json::from_slice(message)
            .map_err(|error| format!("the stored message is not JSON: {error}"))?;
        let placement = match policy.format {
            JwtFormat::Jwt => MessagePlacement::TopLevel,
            JwtFormat::Xurrent => MessagePlacement::UnderData,
        };
        // With discovery (asymmetric keys only) the issuer serves the keys that verify.
        let issuer = if policy.discovery && record.jwt_alg.is_asymmetric() {
            discovery_issuer(&self.base_url, &delivery.account_id, &policy.name)
        } else {
            account_issuer(&self.base_url, &delivery.account_id)
        };
        let claims = claims(
            &message,
            placement,
            &issuer,
            policy.audience.as_deref(),
            &delivery.webhook_id.to_string(),
            &delivery.id.to_string(),
            now.timestamp(),
            policy.expires_in,
        );
        let kid = record.id.clone();
        let token = if record.jwt_alg.is_asymmetric() {
            let key = key.clone();
            let kid = kid.clone();
            self.pool
                .run(move || sign_compact(&key, &kid, &claims))
                .await?
        } else {
            sign_compact(key, &kid, &claims)
        }
        .map_err(|error| error.to_string())?;
        let (body, content_type) = match policy.format {
            JwtFormat::Jwt => (token.into_bytes(), "application/jwt"),
            JwtFormat::Xurrent => (signed_body(&token), "application/json"),
        };
        Ok(SignedRequest {
            body: Some(body),
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            signed_by: Some((policy.id.0, kid)),
        })
    }

    async fn sign_standard(
        &self,
        delivery: &ClaimedDelivery,
        message: &[u8],
        now: DateTime<Utc>,
    ) -> Result<SignedRequest, String> {
        let secrets = self.webhook_secrets(delivery.webhook_id, now).await?;
        let msg_id = delivery.id.to_string();
        let timestamp = now.timestamp();
        let mut headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            (standard_webhooks::HEADER_ID.to_owned(), msg_id.clone()),
            (
                standard_webhooks::HEADER_TIMESTAMP.to_owned(),
                timestamp.to_string(),
            ),
        ];
        // A webhook made before signing secrets existed has none until one is rotated in.
        if !secrets.is_empty() {
            let live: Vec<&WebhookSecret> = secrets.iter().collect();
            headers.push((
                standard_webhooks::HEADER_SIGNATURE.to_owned(),
                standard_webhooks::sign_all(&live, &msg_id, timestamp, message),
            ));
        }
        Ok(SignedRequest {
            body: None,
            headers,
            signed_by: None,
        })
    }

    /// The basic-authentication password of the delivery's URI, opened; `None` when it has
    /// none.
    pub fn uri_password(
        &self,
        delivery: &ClaimedDelivery,
    ) -> Result<Option<zeroize::Zeroizing<String>>, String> {
        delivery
            .uri_password
            .as_deref()
            .map(|sealed| self.material.open_uri_password(delivery.webhook_id, sealed))
            .transpose()
    }

    /// The count of signing changes, read before the store so a change racing the read makes
    /// the next call read again.
    fn generation(&self) -> u64 {
        self.material.changes()
    }

    async fn policy_keys(&self, policy: WebhookPolicyId) -> Result<Arc<PolicyKeys>, String> {
        let generation = self.generation();
        if let Some(cached) = self.cached_policy(policy)
            && cached.generation == generation
        {
            return Ok(cached);
        }
        let records = self
            .material
            .policy_keys(policy)
            .await
            .map_err(|error| format!("reading webhook policy {policy}'s keys: {error}"))?;
        let previous = self.cached_policy_any_age(policy);
        let mut opened = HashMap::with_capacity(records.len());
        for record in &records {
            // A key already opened is reused: keys never change, only come and go.
            let known = previous
                .as_ref()
                .and_then(|previous| previous.opened.get(&record.id).cloned());
            let key = match known {
                Some(key) => key,
                None => Arc::new(self.material.open_policy_key(record)?),
            };
            opened.insert(record.id.clone(), key);
        }
        let fresh = Arc::new(PolicyKeys {
            read_at: Instant::now(),
            generation,
            records,
            opened,
        });
        self.policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(policy, fresh.clone());
        Ok(fresh)
    }

    fn cached_policy(&self, policy: WebhookPolicyId) -> Option<Arc<PolicyKeys>> {
        self.cached_policy_any_age(policy)
            .filter(|cached| cached.read_at.elapsed() < REFRESH)
    }

    fn cached_policy_any_age(&self, policy: WebhookPolicyId) -> Option<Arc<PolicyKeys>> {
        self.policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&policy)
            .cloned()
    }

    async fn webhook_secrets(
        &self,
        webhook: WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Vec<WebhookSecret>>, String> {
        let generation = self.generation();
        {
            let secrets = self
                .secrets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cached) = secrets.get(&webhook)
                && cached.read_at.elapsed() < REFRESH
                && cached.generation == generation
                && cached.first_expiry.is_none_or(|expiry| now < expiry)
            {
                return Ok(cached.secrets.clone());
            }
        }
        let records = self
            .material
            .webhook_secrets(webhook, now)
            .await
            .map_err(|error| format!("reading webhook {webhook}'s signing secrets: {error}"))?;
        let first_expiry = records.iter().filter_map(|record| record.expires_at).min();
        let secrets = Arc::new(
            records
                .iter()
                .map(|record| self.material.open_webhook_secret(record))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let mut cache = self
            .secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget webhooks not sent to lately, so the cache follows the working set.
        if cache.len() > 10_000 {
            cache.retain(|_, cached| cached.read_at.elapsed() < REFRESH);
        }
        cache.insert(
            webhook,
            Secrets {
                read_at: Instant::now(),
                generation,
                first_expiry,
                secrets: secrets.clone(),
            },
        );
        Ok(secrets)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that run CPU-bound jobs handed over from async code. Each takes the next job from
/// one shared queue; the pool stops when it is dropped (the queue closes).
struct SigningPool {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl SigningPool {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("gatehouse-signer-{index}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take a job, not to run it.
                        let job = queue
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "could not start a signing thread");
            }
        }
        Self { jobs }
    }

    /// Runs `work` on a pool thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (result, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = result.send(work());
            }))
            .map_err(|_| "the signing threads are gone".to_owned())?;
        answer
            .await
            .map_err(|_| "a signing thread stopped mid-signature".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pool_runs_jobs_on_its_own_threads_and_returns_their_results() {
        let pool = SigningPool::start(2);
        let here = std::thread::current().id();
        let mut answers = Vec::new();
        for number in 0..50u64 {
            answers.push(pool.run(move || (number * 2, std::thread::current().id())));
        }
        for (number, answer) in answers.into_iter().enumerate() {
            let (doubled, thread) = answer.await.expect("a result");
            assert_eq!(doubled, number as u64 * 2);
            assert_ne!(thread, here, "ran on a pool thread");
        }
    }
}
