//! Limits shared by every process of one database (`QuotaStore`): reservations against a
//! fixed window's limit, one upsert each.

use async_trait::async_trait;

use crate::store::dialect::Dialect;
use crate::store::{QuotaGrant, QuotaStore, StoreResult};

use super::Backend;

#[async_trait]
impl QuotaStore for Backend {
    fn quotas_shared(&self) -> bool {
        !<Backend as Dialect>::ONE_DELIVERING_PROCESS
    }

    async fn reserve_quota(
        &self,
        key: &str,
        window_start: i64,
        want: u32,
        limit: u32,
    ) -> StoreResult<QuotaGrant> {
        // Every reservation adds what it asks, granted or not, so the sum before this one is
        // the sum after it less `want`: one statement, no read-modify-write race.
        let (asked,): (i64,) = sqlx::query_as(
            "INSERT INTO quota_windows (key, window_start, asked) VALUES ($1, $2, $3) \
             ON CONFLICT (key, window_start) DO UPDATE SET asked = quota_windows.asked + \
             excluded.asked RETURNING asked",
        )
        .bind(key)
        .bind(window_start)
        .bind(i64::from(want))
        .fetch_one(self.writer())
        .await?;
        let asked_before = u64::try_from(asked - i64::from(want)).unwrap_or(0);
        Ok(QuotaGrant::of(want, limit, asked_before))
    }

    async fn forget_quota_windows(&self, window_start: i64) -> StoreResult<u64> {
        let forgotten = sqlx::query("DELETE FROM quota_windows WHERE window_start < $1")
            .bind(window_start)
            .execute(self.writer())
            .await?;
        Ok(forgotten.rows_affected())
    }
}
