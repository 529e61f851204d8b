//! Retention: what an account no longer keeps goes, a small batch per transaction, so that the
//! writer (SQLite has one) is never held for long. Pending deliveries are never touched.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::{AccountId, DeliveryId, truncate_to_micros};
use crate::store::dialect::Dialect;
use crate::store::{
    FreePages, PurgedDeliveries, PurgedEvents, PurgedNotices, RetentionStore, StoreResult,
};

use super::Backend;
use super::queue::param_list;

/// Locks the batch's rows (PostgreSQL), so that a redelivery made meanwhile from one of them
/// waits for the purge and then finds it gone, instead of linking to a deleted delivery.
const SKIP_LOCKED: &str = <Backend as Dialect>::SKIP_LOCKED;

#[derive(FromRow)]
struct DoomedDelivery {
    id: Uuid,
    redelivery_of_id: Option<Uuid>,
    redelivered_by_id: Option<Uuid>,
    /// Its only attempt is kept in its row (migration 0024), not in an attempt row.
    keeps_its_attempt: bool,
}

#[derive(FromRow)]
struct EventCandidate {
    id: i64,
    created_at: DateTime<Utc>,
    has_deliveries: bool,
}

#[async_trait]
impl RetentionStore for Backend {
    async fn purge_deliveries(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<PurgedDeliveries> {
        let mut transaction = self.begin_write().await?;
        let held = Instant::now();
        // By id, which the (account_id, id) index holds: an id is minted from its delivery's
        // `created_at` or, before schema 23, a little after it — never before, so nothing goes
        // early (a delivery of the old kind may stay a few milliseconds longer).
        let doomed: Vec<DoomedDelivery> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, redelivery_of_id, redelivered_by_id, \
             attempt_response_headers IS NOT NULL AS keeps_its_attempt FROM webhook_deliveries \
             WHERE account_id = $1 AND id < $2 AND status <> 'pending' \
             ORDER BY id LIMIT $3 {SKIP_LOCKED}"
        )))
        .bind(account.as_str())
        .bind(DeliveryId::earliest_at(before).0)
        .bind(i64::from(limit))
        .fetch_all(&mut *transaction)
        .await?;
        if doomed.is_empty() {
            return Ok(PurgedDeliveries {
                held: held.elapsed(),
                ..PurgedDeliveries::default()
            });
        }
        let ids: Vec<Uuid> = doomed.iter().map(|row| row.id).collect();
        let list = param_list(1, ids.len());
        // The links that would point at a deleted delivery read null from now on: a redelivery
        // names its original and the original its redelivery, so both are found by id.
        let linked: Vec<Uuid> = doomed
            .iter()
            .flat_map(|row| [row.redelivery_of_id, row.redelivered_by_id])
            .flatten()
            .filter(|id| !ids.contains(id))
            .collect();
        if !linked.is_empty() {
            let again = param_list(ids.len() + 1, ids.len());
            let mut unlink = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_deliveries SET \
                 redelivery_of_id = CASE WHEN redelivery_of_id IN ({list}) THEN NULL \
                 ELSE redelivery_of_id END, \
                 redelivered_by_id = CASE WHEN redelivered_by_id IN ({again}) THEN NULL \
                 ELSE redelivered_by_id END \
                 WHERE id IN ({})",
                param_list(2 * ids.len() + 1, linked.len())
            )));
            for id in ids.iter().chain(&ids).chain(&linked) {
                unlink = unlink.bind(*id);
            }
            unlink.execute(&mut *transaction).await?;
        }
        // A webhook's last delivery and a notice's delivery: found among the account's rows.
        for (table, column) in [
            ("webhooks", "last_delivery_id"),
            ("webhook_notifications", "delivery_id"),
        ] {
            let mut unlink = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET {column} = NULL WHERE account_id = {} AND {column} IN ({})",
                Backend::param(1),
                param_list(2, ids.len())
            )))
            .bind(account.as_str());
            for id in &ids {
                unlink = unlink.bind(*id);
            }
            unlink.execute(&mut *transaction).await?;
        }
        let mut attempts = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM webhook_delivery_attempts WHERE delivery_id IN ({list})"
        )));
        for id in &ids {
            attempts = attempts.bind(*id);
        }
        let kept_in_rows = doomed.iter().filter(|row| row.keeps_its_attempt).count() as u64;
        let attempts = attempts.execute(&mut *transaction).await?.rows_affected() + kept_in_rows;
        let mut deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM webhook_deliveries WHERE id IN ({list}) AND status <> 'pending'"
        )));
        for id in &ids {
            deliveries = deliveries.bind(*id);
        }
        let deliveries = deliveries.execute(&mut *transaction).await?.rows_affected();
        transaction.commit().await?;
        Ok(PurgedDeliveries {
            deliveries,
            attempts,
            scanned: ids.len() as u64,
            held: held.elapsed(),
        })
    }

    async fn purge_events(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        after: i64,
        limit: u32,
    ) -> StoreResult<PurgedEvents> {
        // Events are read in id order from where the last batch stopped, so an old event that
        // still has a pending delivery is passed over once, not in every batch; ids follow
        // publishing order, so the first event at or after the cutoff ends the walk.
        let candidates: Vec<EventCandidate> = sqlx::query_as(
            "SELECT e.id, e.created_at, EXISTS (SELECT 1 FROM webhook_deliveries d \
             WHERE d.event_id = e.id) AS has_deliveries \
             FROM events e WHERE e.account_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
        )
        .bind(account.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let full_batch = candidates.len() == limit as usize;
        let cutoff = truncate_to_micros(before);
        let old: Vec<&EventCandidate> = candidates
            .iter()
            .take_while(|event| event.created_at < cutoff)
            .collect();
        let next_after = match old.last() {
            Some(last) if full_batch && old.len() == candidates.len() => Some(last.id),
            _ => None,
        };
        let doomed: Vec<i64> = old
            .iter()
            .filter(|event| !event.has_deliveries)
            .map(|event| event.id)
            .collect();
        if doomed.is_empty() {
            return Ok(PurgedEvents {
                events: 0,
                next_after,
                held: Duration::ZERO,
            });
        }
        let mut transaction = self.begin_write().await?;
        let held = Instant::now();
        // Checked again in the transaction: a redelivery may have come since the read.
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM events WHERE id IN ({}) AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = events.id)",
            param_list(1, doomed.len())
        )));
        for id in &doomed {
            delete = delete.bind(*id);
        }
        let events = delete.execute(&mut *transaction).await?.rows_affected();
        transaction.commit().await?;
        Ok(PurgedEvents {
            events,
            next_after,
            held: held.elapsed(),
        })
    }

    async fn purge_notifications(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<PurgedNotices> {
        let mut transaction = self.begin_write().await?;
        let held = Instant::now();
        let notifications = sqlx::query(
            "DELETE FROM webhook_notifications WHERE id IN (SELECT id FROM \
             webhook_notifications WHERE account_id = $1 AND created_at < $2 \
             ORDER BY created_at, id LIMIT $3)",
        )
        .bind(account.as_str())
        .bind(truncate_to_micros(before))
        .bind(i64::from(limit))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(PurgedNotices {
            notifications,
            held: held.elapsed(),
        })
    }

    async fn purge_verification_secrets(&self, sent_before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE webhooks SET verification_hash = NULL WHERE verification_hash IS NOT NULL \
             AND verification_sent_at < $1",
        )
        .bind(truncate_to_micros(sent_before))
        .execute(self.writer())
        .await?
        .rows_affected())
    }

    async fn purge_console_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < $1 OR expires_at <= $2")
                .bind(truncate_to_micros(idle_before))
                .bind(truncate_to_micros(now))
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }

    async fn reclaim_space(&self, pages: u32) -> StoreResult<FreePages> {
        if !<Backend as Dialect>::EMBEDDED_FILE {
            return Ok(FreePages::default());
        }
        // `incremental_vacuum(0)` would give back every free page at once.
        if pages > 0 {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "PRAGMA incremental_vacuum({pages})"
            )))
            .execute(self.writer())
            .await?;
        }
        let (free, total): (i64, i64) =
            sqlx::query_as("SELECT * FROM pragma_freelist_count(), pragma_page_count()")
                .fetch_one(self.writer())
                .await?;
        Ok(FreePages {
            free: u64::try_from(free).unwrap_or(0),
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
