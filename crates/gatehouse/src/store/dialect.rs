//! The contract each backend satisfies for the SQL both share. `store/shared/` is compiled once
//! per backend, as a module of `sqlite.rs` and of `postgres.rs` (each declares
//! `#[path = "shared/mod.rs"] mod shared;` and names itself `Backend`, its database `Db`): what
//! that SQL needs to know about the backend it runs on is this trait, and nothing else.
//! Besides it, a backend struct holds the `publisher` (group commit of published events) the
//! shared code starts for it.

use std::future::Future;
use std::sync::Arc;

use sqlx::{Database, Pool, Transaction};

use crate::domain::NewEvent;
use crate::store::StoreResult;
use crate::store::webhooks::{ClaimedDelivery, HandOffLease};

/// What `Dialect::append_published` appended: each event's id and number of deliveries, in
/// order, and the deliveries it leased to the worker it was given, read as a claim reads them.
pub(crate) struct AppendedInOne {
    pub(crate) events: Vec<(i64, u64)>,
    pub(crate) handed: Vec<ClaimedDelivery>,
}

pub(crate) trait Dialect: Sized + Send + Sync + 'static {
    type Db: Database;

    /// How SCIM filters are compiled for this database.
    const SCIM_DIALECT: scim_sql::Dialect;
    /// What a claim of due deliveries adds so that workers on several nodes never lease the
    /// same row (`FOR UPDATE OF d SKIP LOCKED`), or nothing where one writer is all there is.
    const CLAIM_LOCK: &'static str;
    /// The same for claiming notices to mail.
    const NOTIFICATION_LOCK: &'static str;
    /// What a single-table `SELECT` adds to lock its rows unless another transaction holds
    /// them, which it then skips (`FOR UPDATE SKIP LOCKED`), or nothing with one writer.
    const SKIP_LOCKED: &'static str;
    /// The statement that starts a write transaction (SQLite: `BEGIN IMMEDIATE`, so a writer
    /// waits for the lock up front instead of failing when it upgrades).
    const BEGIN_WRITE: &'static str;
    /// Whether one process is all that delivers from this database (an embedded SQLite file):
    /// then a lease held when that process starts was held by a process that died, and can be
    /// given back at once instead of waiting for it to run out.
    const ONE_DELIVERING_PROCESS: bool;
    /// Whether a statement's `WITH` may hold an `UPDATE … RETURNING` whose rows the rest of the
    /// statement reads (PostgreSQL's data-modifying CTEs): a write and the read of what it wrote
    /// in one round trip. SQLite has no such `WITH`.
    const WITH_WRITES: bool;
    /// Whether the database is one file this process opens (SQLite). Such a file keeps the
    /// pages a purge frees until asked to give them back (`auto_vacuum=incremental`, `PRAGMA
    /// incremental_vacuum`) and is backed up by copying it (`VACUUM INTO`); a PostgreSQL
    /// server has autovacuum and `pg_dump` for those.
    const EMBEDDED_FILE: bool;

    /// The backend's migrations.
    fn migrator() -> &'static sqlx::migrate::Migrator;
    /// The `index`th parameter of a long statement written in binding order (`$7`, or `?`).
    fn param(index: usize) -> String;

    /// Where reads go.
    fn pool(&self) -> &Pool<Self::Db>;
    /// Where single-statement writes go.
    fn writer(&self) -> &Pool<Self::Db>;
    /// Opens a write transaction.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;
    /// Where publishing finds the worker it hands new deliveries to, leased already
    /// (`QueueStore::hand_off_to`): a claim spared per message — a round trip to a server on
    /// PostgreSQL, two statements through the writer's thread on SQLite.
    fn hand_offs(&self) -> Option<&crate::store::webhooks::HandOffSlot>;
    /// This process's signal that deliveries may have become due.
    fn deliveries_ready(&self) -> &Arc<tokio::sync::Notify>;

    /// Appends events published through the API — each fanned out to the webhooks listening
    /// for it, and other processes told — in one statement, where that saves round trips to a
    /// server: each event's id and number of deliveries, in their order. `None` where the
    /// database is in this process (SQLite) and the shared transaction of several statements
    /// (`publishing::publish_batch`) costs no more.
    /// With `lease` (a worker, until when, and the webhooks it takes none of), the deliveries
    /// it may be handed (`HandOff`) are made leased to it, and come back as a claim reads them.
    fn append_published(
        pool: &Pool<Self::Db>,
        events: &[&NewEvent],
        lease: Option<&HandOffLease>,
    ) -> impl Future<Output = Option<StoreResult<AppendedInOne>>> + Send;
    /// Tells other processes, when the transaction commits, that deliveries became due.
    fn notify_deliveries_ready(
        connection: &mut <Self::Db as Database>::Connection,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Tells other processes, when the transaction commits, that a credential (token, role)
    /// or a signing key or secret changed.
    fn notify_credentials_changed(
        connection: &mut <Self::Db as Database>::Connection,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Calls `on_change` whenever another process says credentials changed.
    fn listen_for_credential_changes(pool: &Pool<Self::Db>, on_change: Arc<dyn Fn() + Send + Sync>);
}
