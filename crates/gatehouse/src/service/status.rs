//! `GET /v1/status`: what runs — the version, the schema, the database's size — and how the
//! caller's account stands: its delivery queue and its retention. For administrators.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Scope};

/// What runs, and the account's queue and retention.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServerStatus {
    /// Gatehouse's version (`0.1.0`).
    pub version: &'static str,
    /// The last database migration applied (`15` for `0015_…`).
    pub schema_version: i64,
    /// The database's size on disk: the SQLite file less its free pages, or the PostgreSQL
    /// database.
    pub database_bytes: u64,
    pub queue: QueueView,
    /// Days finished deliveries, their events and notices are kept (see `/v1/account`).
    pub delivery_retention_days: i64,
}

/// The account's pending deliveries.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    /// Not yet sent or still retrying, parked ones included.
    pub pending: u64,
    /// Pending and due now.
    pub due: u64,
    /// When the longest-waiting due delivery became due.
    pub oldest_due_at: Option<DateTime<Utc>>,
}

impl Services {
    /// Needs `account:read` and an account or directory administrator.
    pub async fn status(&self, principal: &Principal) -> ServiceResult<ServerStatus> {
        principal.require(Scope::read(Resource::Account))?;
        if !principal.roles.is_administrator() {
            return Err(ServiceError::Forbidden(format!(
                "{} may not read the server's status: it is for account and directory \
                 administrators",
                principal.person_name
            )));
        }
        let account = self.account(&principal.account_id).await?;
        let queue = self
            .store
            .account_queue_stats(&account.id, self.clock.now())
            .await?;
        Ok(ServerStatus {
            version: env!("CARGO_PKG_VERSION"),
            schema_version: self.store.schema_version().await?,
            database_bytes: self.store.database_size().await?,
            queue: QueueView {
                pending: queue.pending,
                due: queue.due,
                oldest_due_at: queue.oldest_due_at,
            },
            delivery_retention_days: account.delivery_retention_days.days(),
        })
    }
}
