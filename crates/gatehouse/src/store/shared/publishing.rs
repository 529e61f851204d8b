//! Custom events published through the API: appended with their deliveries, many per
//! transaction (group commit) unless an idempotency key asks for a check first.

use chrono::{DateTime, Utc};
use sqlx::{Pool, Transaction};

use crate::domain::{AccountId, DeliveryId, NewEvent, WebhookId, truncate_to_micros};
use crate::store::dialect::Dialect;
use crate::store::webhooks::{HandOffSlot, Handed};
use crate::store::{IdempotencyKey, Published, StoreError, StoreResult};

use super::events::{Appended, append_event, insert_event_row};
use super::fan_out::{Listener, NewDelivery, active_listeners, insert_deliveries, listening};
use super::queue::{claimed_deliveries, read_claimed_rows};
use super::{Backend, Db};
use super::{classify, count_as_u64};

/// Appends a published event, honouring its idempotency key.
pub(super) async fn publish_event(
    mut transaction: Transaction<'static, Db>,
    event: &NewEvent,
    key: Option<&IdempotencyKey>,
) -> StoreResult<Published> {
    if let Some(key) = key {
        let used: Option<(Vec<u8>, i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT request_hash, event_id, created_at FROM event_idempotency_keys \
             WHERE account_id = $1 AND idempotency_key = $2",
        )
        .bind(event.account_id.as_str())
        .bind(&key.key)
        .fetch_optional(&mut *transaction)
        .await?;
        if let Some((request_hash, event_id, used_at)) = used {
            if used_at >= key.valid_after {
                if request_hash != key.request_hash {
                    return Ok(Published::KeyReused);
                }
                let (deliveries,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE event_id = $1 AND \
                     redelivery_of_id IS NULL",
                )
                .bind(event_id)
                .fetch_one(&mut *transaction)
                .await?;
                return Ok(Published::Replayed {
                    event_id,
                    deliveries: count_as_u64(deliveries),
                });
            }
            sqlx::query(
                "DELETE FROM event_idempotency_keys WHERE account_id = $1 AND idempotency_key = $2",
            )
            .bind(event.account_id.as_str())
            .bind(&key.key)
            .execute(&mut *transaction)
            .await?;
        }
    }
    let appended = append_event(&mut transaction, event).await?;
    if let Some(key) = key {
        sqlx::query(
            "INSERT INTO event_idempotency_keys (account_id, idempotency_key, request_hash, \
             event_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event.account_id.as_str())
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(appended.id)
        .bind(truncate_to_micros(event.created_at))
        .execute(&mut *transaction)
        .await
        .map_err(classify)?;
    }
    transaction.commit().await?;
    Ok(Published::Created {
        event_id: appended.id,
        deliveries: appended.deliveries,
    })
}

pub(super) async fn purge_idempotency_keys(
    pool: &Pool<Db>,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM event_idempotency_keys WHERE created_at < $1")
            .bind(truncate_to_micros(before))
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

// Group commit for published events. Included by each backend module, like `shared.rs`: `Db`
// and `Backend::BEGIN_WRITE` (how that backend starts a write transaction) come from the includer.

/// Events appended in one transaction, at most.
pub(super) const PUBLISH_BATCH: usize = 128;

/// Batches in progress at once: one writing, one gathered and waiting for the write lock, so
/// that the writer is not idle while a committed batch's publishers are answered and send
/// their next events. (Four made batches smaller and the 1,000 events/s p99 worse.)
pub(in crate::store) const PUBLISH_TASKS: usize = 2;

pub(super) type PublishReply = tokio::sync::oneshot::Sender<StoreResult<Published>>;

/// Appends events published without an idempotency key many per transaction: while one
/// transaction commits, the events published meanwhile queue up, and the next transaction
/// takes them all. On SQLite, with one writer, that turns a transaction's fixed cost (its
/// `BEGIN`, its lookups of the account's webhooks, its `COMMIT`, and a wait for the executor
/// between statements) into a cost per batch. Each publisher is answered after the commit
/// that holds its event, so an acknowledged event is durable as before.
pub(crate) struct EventPublisher {
    queue: tokio::sync::mpsc::Sender<(NewEvent, PublishReply)>,
}

impl EventPublisher {
    /// Starts the tasks that append queued events; they end when the store is dropped.
    pub(crate) fn start(
        pool: Pool<Db>,
        signal: std::sync::Arc<tokio::sync::Notify>,
        hand_offs: std::sync::Arc<HandOffSlot>,
    ) -> Self {
        let (queue, receiver) =
            tokio::sync::mpsc::channel::<(NewEvent, PublishReply)>(PUBLISH_BATCH * 8);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..PUBLISH_TASKS {
            tokio::spawn(append_queued(
                pool.clone(),
                signal.clone(),
                hand_offs.clone(),
                receiver.clone(),
            ));
        }
        Self { queue }
    }

    pub(super) async fn publish(&self, event: &NewEvent) -> StoreResult<Published> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send((event.clone(), reply))
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?
    }
}

/// One of the tasks that take what is queued, append it in one transaction, and answer.
pub(super) async fn append_queued(
    pool: Pool<Db>,
    signal: std::sync::Arc<tokio::sync::Notify>,
    hand_offs: std::sync::Arc<HandOffSlot>,
    receiver: std::sync::Arc<
        tokio::sync::Mutex<tokio::sync::mpsc::Receiver<(NewEvent, PublishReply)>>,
    >,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while receiver
        .lock()
        .await
        .recv_many(&mut batch, PUBLISH_BATCH)
        .await
        > 0
    {
        let events: Vec<&NewEvent> = batch.iter().map(|(event, _)| event).collect();
        match publish_batch(&pool, &events, &hand_offs).await {
            Ok((appended, waiting)) => {
                // Deliveries handed to this process's worker need no claim to wake it.
                if waiting {
                    signal.notify_one();
                }
                for ((_, reply), appended) in batch.drain(..).zip(appended) {
                    let _ = reply.send(Ok(Published::Created {
                        event_id: appended.id,
                        deliveries: appended.deliveries,
                    }));
                }
            }
            Err(error) => {
                // Nothing of the batch was kept. Append its events one by one, so that
                // each publisher gets its own event's outcome.
                tracing::debug!(%error, events = batch.len(), "appending a batch of events failed; \
                                                               appending one at a time");
                for (event, reply) in batch.drain(..) {
                    let result = match pool.begin_with(Backend::BEGIN_WRITE).await {
                        Ok(transaction) => publish_event(transaction, &event, None).await,
                        Err(error) => Err(error.into()),
                    };
                    if result.is_ok() {
                        signal.notify_one();
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// Appends `events` and their deliveries in one transaction (or statement); the result is in
/// their order, with whether any delivery waits for a claim (was not handed off).
pub(super) async fn publish_batch(
    pool: &Pool<Db>,
    events: &[&NewEvent],
    hand_offs: &HandOffSlot,
) -> StoreResult<(Vec<Appended>, bool)> {
    let latest = events.iter().map(|event| event.created_at).max();
    let lease = latest.and_then(|now| hand_offs.lease(now));
    if let Some(appended) = Backend::append_published(pool, events, lease.as_ref()).await {
        let appended = appended?;
        let made: u64 = appended
            .events
            .iter()
            .map(|(_, deliveries)| deliveries)
            .sum();
        let waiting = made > appended.handed.len() as u64;
        if let Some(lease) = lease {
            hand_offs.hand(Handed {
                deliveries: appended.handed,
                held_until: lease.until,
            });
        }
        let events = appended
            .events
            .into_iter()
            .map(|(id, deliveries)| Appended { id, deliveries })
            .collect();
        return Ok((events, waiting));
    }
    let worker = lease.as_ref().map(|lease| lease.worker.to_string());
    let handed_lease = lease.as_ref().zip(worker.as_deref());
    let mut transaction = pool.begin_with(Backend::BEGIN_WRITE).await?;
    let mut listeners: Vec<(&AccountId, Vec<Listener>)> = Vec::new();
    let mut appended = Vec::with_capacity(events.len());
    let mut rows = Vec::new();
    for event in events {
        let event_id = insert_event_row(&mut transaction, event).await?;
        let index = match listeners
            .iter()
            .position(|(account, _)| **account == event.account_id)
        {
            Some(index) => index,
            None => {
                listeners.push((
                    &event.account_id,
                    active_listeners(&mut transaction, &event.account_id).await?,
                ));
                listeners.len() - 1
            }
        };
        let before = rows.len();
        rows.extend(listening(&listeners[index].1, event).map(|listener| {
            NewDelivery {
                id: DeliveryId::minted_at(truncate_to_micros(event.created_at)),
                event_id,
                event,
                webhook_id: listener.id,
                ordered: listener.ordered,
                test_mode: false,
                leased: handed_lease
                    .filter(|(lease, _)| {
                        lease.takes(
                            WebhookId(listener.id),
                            listener.ordered,
                            listener.rate_limited,
                        )
                    })
                    .map(|(lease, worker)| (worker, lease.until)),
            }
        }));
        appended.push(Appended {
            id: event_id,
            deliveries: (rows.len() - before) as u64,
        });
    }
    insert_deliveries(&mut transaction, &rows).await?;
    let leased: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|row| row.leased.is_some())
        .map(|row| row.id.0)
        .collect();
    let handed = if leased.is_empty() {
        Vec::new()
    } else {
        claimed_deliveries(read_claimed_rows(&mut transaction, &leased).await?)?
    };
    transaction.commit().await?;
    let waiting = rows.len() > handed.len();
    if let Some(lease) = lease {
        hand_offs.hand(Handed {
            deliveries: handed,
            held_until: lease.until,
        });
    }
    Ok((appended, waiting))
}
