//! The outbox: every changing command appends its events here, in its own transaction
//! (docs/ARCHITECTURE.md "The outbox"), and reading them back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Transaction, types::Json};
use uuid::Uuid;

use crate::domain::{
    AccountId, Actor, Event, NewEvent, PersonId, VERIFY_EVENT, truncate_to_micros,
};
use crate::store::dialect::Dialect;
use crate::store::{EventStore, IdempotencyKey, Published, StoreResult};

use super::fan_out::fan_out;
use super::publishing::{publish_event, purge_idempotency_keys};
use super::{Backend, Db};
use super::{classify, parse_account_id};

#[derive(FromRow)]
pub(super) struct EventRow {
    id: i64,
    account_id: String,
    name: String,
    object_id: String,
    person_id: Option<Uuid>,
    person_name: Option<String>,
    payload: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
}

/// An event appended: its id and how many deliveries it fanned out to.
pub(super) struct Appended {
    pub(super) id: i64,
    pub(super) deliveries: u64,
}

pub(super) async fn append_event(
    connection: &mut <Db as sqlx::Database>::Connection,
    event: &NewEvent,
) -> StoreResult<Appended> {
    let id = insert_event_row(connection, event).await?;
    let deliveries = fan_out(connection, id, event).await?;
    Ok(Appended { id, deliveries })
}

impl Backend {
    /// Ends a command's write transaction: appends its events and commits, so the change and its
    /// events land together or not at all; then wakes this process's delivery workers, as the
    /// events may have fanned out to deliveries (on PostgreSQL `fan_out` also tells the other
    /// processes, when the commit lands).
    pub(super) async fn commit_with_events(
        &self,
        mut transaction: Transaction<'static, Db>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        for event in events {
            append_event(&mut transaction, event).await?;
        }
        super::rollups::count_scim_changes(&mut transaction, events).await?;
        transaction.commit().await?;
        self.deliveries_ready().notify_one();
        Ok(())
    }
}

/// Appends the event's row; returns its id.
pub(super) async fn insert_event_row(
    connection: &mut <Db as sqlx::Database>::Connection,
    event: &NewEvent,
) -> StoreResult<i64> {
    let (person_id, person_name) = match &event.actor {
        Some(actor) => (Some(actor.person_id.0), Some(actor.person_name.as_str())),
        None => (None, None),
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO events (account_id, name, object_id, person_id, person_name, payload, \
         created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(event.account_id.as_str())
    .bind(&event.name)
    .bind(&event.object_id)
    .bind(person_id)
    .bind(person_name)
    .bind(Json(&event.payload))
    .bind(truncate_to_micros(event.created_at))
    .fetch_one(&mut *connection)
    .await
    .map_err(classify)?;
    Ok(id)
}

#[async_trait]
impl EventStore for Backend {
    async fn publish_event(
        &self,
        event: &NewEvent,
        key: Option<&IdempotencyKey>,
    ) -> StoreResult<Published> {
        // The batching publisher fans out to listeners; a verification or a test send goes to
        // one webhook, which the one-event transaction knows how to do.
        if key.is_none() && event.name != VERIFY_EVENT && event.test_for.is_none() {
            return self.publisher.publish(event).await;
        }
        let published = publish_event(self.begin_write().await?, event, key).await?;
        self.deliveries_ready().notify_one();
        Ok(published)
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        purge_idempotency_keys(self.writer(), before).await
    }

    async fn events_after(
        &self,
        account: &AccountId,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, account_id, name, object_id, person_id, person_name, payload, created_at \
             FROM events WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(account.as_str())
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                let actor = match (row.person_id, row.person_name) {
                    (Some(person_id), Some(person_name)) => Some(Actor {
                        person_id: PersonId(person_id),
                        person_name,
                    }),
                    _ => None,
                };
                Ok(Event {
                    id: row.id,
                    account_id: parse_account_id(&row.account_id)?,
                    name: row.name,
                    object_id: row.object_id,
                    actor,
                    payload: row.payload.0,
                    created_at: row.created_at,
                })
            })
            .collect()
    }
}
