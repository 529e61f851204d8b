// Group commit for published events. Included by each backend module, like `shared.rs`: `Db`
// and `BEGIN_WRITE` (how that backend starts a write transaction) come from the includer.

/// Events appended in one transaction, at most.
const PUBLISH_BATCH: usize = 128;

/// Batches in progress at once: one writing, one gathered and waiting for the write lock, so
/// that the writer is not idle while a committed batch's publishers are answered and send
/// their next events. (Four made batches smaller and the 1,000 events/s p99 worse.)
const PUBLISH_TASKS: usize = 2;

type PublishReply = tokio::sync::oneshot::Sender<StoreResult<Published>>;

/// Appends events published without an idempotency key many per transaction: while one
/// transaction commits, the events published meanwhile queue up, and the next transaction
/// takes them all. On SQLite, with one writer, that turns a transaction's fixed cost (its
/// `BEGIN`, its lookups of the account's webhooks, its `COMMIT`, and a wait for the executor
/// between statements) into a cost per batch. Each publisher is answered after the commit
/// that holds its event, so an acknowledged event is durable as before.
struct EventPublisher {
    queue: tokio::sync::mpsc::Sender<(NewEvent, PublishReply)>,
}

impl EventPublisher {
    /// Starts the tasks that append queued events; they end when the store is dropped.
    fn start(pool: Pool<Db>, signal: std::sync::Arc<tokio::sync::Notify>) -> Self {
        let (queue, receiver) = tokio::sync::mpsc::channel::<(NewEvent, PublishReply)>(PUBLISH_BATCH * 8);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..PUBLISH_TASKS {
            tokio::spawn(append_queued(pool.clone(), signal.clone(), receiver.clone()));
        }
        Self { queue }
    }

    async fn publish(&self, event: &NewEvent) -> StoreResult<Published> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send((event.clone(), reply))
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?
    }
}

/// One of the tasks that take what is queued, append it in one transaction, and answer.
async fn append_queued(
    pool: Pool<Db>,
    signal: std::sync::Arc<tokio::sync::Notify>,
    receiver: std::sync::Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<(NewEvent, PublishReply)>>>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while receiver.lock().await.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let events: Vec<&NewEvent> = batch.iter().map(|(event, _)| event).collect();
        match publish_batch(&pool, &events).await {
            Ok(appended) => {
                signal.notify_one();
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
                tracing::debug!(%error, events = batch.len(), "appending a batch of events failed; appending one at a time");
                for (event, reply) in batch.drain(..) {
                    let result = match pool.begin_with(BEGIN_WRITE).await {
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

/// Appends `events` and their deliveries in one transaction; the result is in their order.
async fn publish_batch(pool: &Pool<Db>, events: &[&NewEvent]) -> StoreResult<Vec<Appended>> {
    let mut transaction = pool.begin_with(BEGIN_WRITE).await?;
    let mut listeners: Vec<(&AccountId, Vec<Listener>)> = Vec::new();
    let mut appended = Vec::with_capacity(events.len());
    let mut rows = Vec::new();
    for event in events {
        let event_id = insert_event_row(&mut transaction, event).await?;
        let index = match listeners.iter().position(|(account, _)| **account == event.account_id) {
            Some(index) => index,
            None => {
                listeners.push((&event.account_id, active_listeners(&mut transaction, &event.account_id).await?));
                listeners.len() - 1
            }
        };
        let before = rows.len();
        rows.extend(
            listening(&listeners[index].1, event)
                .map(|(webhook_id, ordered)| NewDelivery { event_id, event, webhook_id, ordered }),
        );
        appended.push(Appended { id: event_id, deliveries: (rows.len() - before) as u64 });
    }
    insert_deliveries(&mut transaction, &rows).await?;
    transaction.commit().await?;
    Ok(appended)
}
