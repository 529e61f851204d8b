//! Message envelopes: what an attempt was sent with besides its event, stored once for every
//! attempt that shares it (migration 0017). Rows are never changed or deleted, so an id once
//! known is known for good: each process keeps those it has seen, and only a new envelope (a
//! webhook renamed or moved, a new base URL) costs a statement.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::domain::AccountId;
use crate::domain::message::EnvelopeFacts;
use crate::store::{AttemptRecord, StoreResult};

use super::Backend;
use crate::store::dialect::Dialect;

/// An envelope as it is looked up: an account's webhook name and URI, and this installation's
/// base URL and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct EnvelopeKey {
    pub account_id: AccountId,
    pub uri: String,
    pub facts: EnvelopeFacts,
}

impl EnvelopeKey {
    pub(super) fn of(record: &AttemptRecord) -> Self {
        Self {
            account_id: record.account_id.clone(),
            uri: record.attempt.request_uri.clone(),
            facts: record.envelope.clone(),
        }
    }

    /// What the unique index holds instead of the four texts (a URI may be long).
    fn digest(&self) -> Vec<u8> {
        let mut digest = Sha256::new();
        for part in [
            &self.facts.webhook_name,
            &self.uri,
            &self.facts.base_url,
            &self.facts.instance_name,
        ] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        digest.finalize().to_vec()
    }
}

/// The envelope ids this process knows.
#[derive(Default)]
pub(crate) struct EnvelopeIds(Mutex<HashMap<EnvelopeKey, i64>>);

impl EnvelopeIds {
    fn known(&self, key: &EnvelopeKey) -> Option<i64> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .copied()
    }

    fn learn(&self, key: EnvelopeKey, id: i64) {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Bounded: a process that somehow saw this many forgets them and asks again.
        if known.len() >= 100_000 {
            known.clear();
        }
        known.insert(key, id);
    }
}

/// The id of each record's envelope, adding those the database doesn't have yet. Each is
/// committed on its own, before the attempts that refer to it are recorded, so an id this
/// process remembers is never one a rolled-back transaction made.
pub(super) async fn envelope_ids(
    backend: &Backend,
    records: &[AttemptRecord],
) -> StoreResult<HashMap<EnvelopeKey, i64>> {
    let mut ids = HashMap::new();
    for record in records {
        let key = EnvelopeKey::of(record);
        if ids.contains_key(&key) {
            continue;
        }
        let id = match backend.envelopes.known(&key) {
            Some(id) => id,
            None => {
                let id = store_envelope(backend, &key).await?;
                backend.envelopes.learn(key.clone(), id);
                id
            }
        };
        ids.insert(key, id);
    }
    Ok(ids)
}

async fn store_envelope(backend: &Backend, key: &EnvelopeKey) -> StoreResult<i64> {
    let digest = key.digest();
    sqlx::query(
        "INSERT INTO message_envelopes (account_id, facts_digest, webhook_name, uri, base_url, \
         instance_name) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account_id, facts_digest) DO NOTHING",
    )
    .bind(key.account_id.as_str())
    .bind(&digest)
    .bind(&key.facts.webhook_name)
    .bind(&key.uri)
    .bind(&key.facts.base_url)
    .bind(&key.facts.instance_name)
    .execute(backend.writer())
    .await?;
    let (id,): (i64,) = sqlx::query_as(
        "SELECT id FROM message_envelopes WHERE account_id = $1 AND facts_digest = $2",
    )
    .bind(key.account_id.as_str())
    .bind(&digest)
    .fetch_one(backend.writer())
    .await?;
    Ok(id)
}
