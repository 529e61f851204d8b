//! Retention: each account keeps its finished deliveries (with their attempts), the events they
//! carried and its notices for `delivery_retention_days`; older ones are purged. Every server
//! purges by itself every few minutes, in batches small enough that the writer is never held for
//! long (SQLite has one, which deliveries wait for); `gatehouse purge` runs the same purge at
//! once. Pending deliveries are never purged, however old.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use super::{ServiceResult, Services};
use crate::domain::{Account, AccountId, VERIFICATION_VALID_HOURS};

/// Which records a purge looks at: one account or all, and finished before the account's
/// retention cutoff or before a given moment.
#[derive(Clone, Debug, Default)]
pub struct PurgeScope {
    pub account: Option<AccountId>,
    /// Overrides every account's retention: purge what finished before this moment.
    pub before: Option<DateTime<Utc>>,
}

/// How a purge shares the writer: how long one batch may hold it, and how long the purge
/// leaves it to others between batches.
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// What a batch should take; batches grow and shrink to stay near it.
    pub batch_target: Duration,
    pub pause: Duration,
}

impl Pacing {
    /// The server's own purge: batches of about 2 ms of the writer, with four times as long
    /// between them for deliveries and publishing, so that a delivery waits for a purge batch
    /// no longer than it waits for another delivery's write.
    pub const BACKGROUND: Self = Self {
        batch_target: Duration::from_millis(2),
        pause: Duration::from_millis(8),
    };
    /// `gatehouse purge`: the same batches, back to back.
    pub const AT_ONCE: Self = Self {
        batch_target: Duration::from_millis(20),
        pause: Duration::ZERO,
    };
}

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub deliveries: u64,
    pub attempts: u64,
    pub events: u64,
    pub notifications: u64,
    pub console_sessions: u64,
    /// Verification callbacks forgotten a week after they expired (until then they answer
    /// that they expired, rather than that they are unknown).
    pub verification_secrets: u64,
    /// SCIM provisioning secrets forgotten 31 days after they stopped working (revoked, or
    /// retired by a rotation); until then the credential's view and `401 revoked` know them.
    pub provisioning_secrets: u64,
    /// SQLite: free pages given back to the file system.
    pub pages_reclaimed: u64,
    /// The longest any one batch took (a batch is one write transaction).
    pub longest_batch_ms: u64,
}

impl PurgeReport {
    fn add(&mut self, other: &Self) {
        self.deliveries += other.deliveries;
        self.attempts += other.attempts;
        self.events += other.events;
        self.notifications += other.notifications;
        self.console_sessions += other.console_sessions;
        self.verification_secrets += other.verification_secrets;
        self.provisioning_secrets += other.provisioning_secrets;
        self.pages_reclaimed += other.pages_reclaimed;
        self.longest_batch_ms = self.longest_batch_ms.max(other.longest_batch_ms);
    }

    /// Whether it removed nothing (how long that took aside).
    fn is_empty(&self) -> bool {
        self.deliveries
            + self.attempts
            + self.events
            + self.notifications
            + self.console_sessions
            + self.verification_secrets
            + self.provisioning_secrets
            == 0
    }
}

/// How long the console's hourly and daily aggregates are kept: it charts 30 days, and a day
/// more keeps the oldest bar whole.
pub const ROLLUPS_KEPT: chrono::Duration = chrono::Duration::days(31);

/// How long a SCIM provisioning secret is kept after it stopped working.
const PROVISIONING_SECRETS_KEPT: chrono::Duration = chrono::Duration::days(31);

/// How long after its sending a verification secret is kept: its 24 hours and a week in
/// which the callback answers that it expired.
const VERIFICATION_SECRETS_KEPT: chrono::Duration =
    chrono::Duration::hours(VERIFICATION_VALID_HOURS + 7 * 24);

/// How long a batch may hold the database's writer: deliveries wait for it meanwhile (SQLite).
/// Batches aim well below; one that takes longer is logged.
pub const WRITER_HOLD_LIMIT: Duration = Duration::from_millis(50);

/// Rows per batch, adapted to what the last batch took.
struct BatchSize {
    rows: u32,
    target: Duration,
    longest: Duration,
}

impl BatchSize {
    const FIRST: u32 = 50;
    const MIN: u32 = 10;
    const MAX: u32 = 2_000;

    fn new(target: Duration) -> Self {
        Self {
            rows: Self::FIRST,
            target,
            longest: Duration::ZERO,
        }
    }

    fn longest_ms(&self) -> u64 {
        u64::try_from(self.longest.as_millis()).unwrap_or(u64::MAX)
    }

    fn get(&self) -> u32 {
        self.rows
    }

    /// Halves after a batch that took longer than the target, grows by half after one that
    /// took less than half of it.
    fn observe(&mut self, took: Duration) {
        self.longest = self.longest.max(took);
        if took > WRITER_HOLD_LIMIT {
            tracing::warn!(
                took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                rows = self.rows,
                "a purge batch held the database longer than 50 ms"
            );
        }
        if took > self.target {
            self.rows = (self.rows / 2).max(Self::MIN);
        } else if took < self.target / 2 {
            self.rows = (self.rows + self.rows / 2).min(Self::MAX);
        }
    }
}

/// SQLite pages (4 KiB) given back per step, per row a batch of that size would delete: the
/// first step gives back 500 pages (2 MiB), later ones as many as the time target allows.
const PAGES_PER_ROW: u32 = 10;

/// The share of a SQLite file kept free after a purge (a quarter) for the rows to come.
const FREE_RESERVE_DIVISOR: u64 = 4;

impl Services {
    /// Purges what `scope` covers, batch by batch, as `pacing` says.
    pub async fn purge(&self, scope: &PurgeScope, pacing: Pacing) -> ServiceResult<PurgeReport> {
        let accounts: Vec<Account> = match &scope.account {
            Some(id) => vec![self.account(id).await?],
            None => self.accounts().await?,
        };
        let mut report = PurgeReport::default();
        let mut size = BatchSize::new(pacing.batch_target);
        for account in &accounts {
            let now = self.clock.now();
            let before = scope
                .before
                .unwrap_or_else(|| account.delivery_retention_days.cutoff(now));
            let purged = self
                .purge_account(&account.id, before, &mut size, pacing)
                .await?;
            if !purged.is_empty() {
                tracing::info!(
                    account = %account.id,
                    %before,
                    deliveries = purged.deliveries,
                    attempts = purged.attempts,
                    events = purged.events,
                    notifications = purged.notifications,
                    "purged what the account no longer keeps"
                );
            }
            report.add(&purged);
        }
        let now = self.clock.now();
        report.console_sessions = self
            .store
            .purge_console_sessions(now - self.console_idle_timeout, now)
            .await?;
        report.verification_secrets = self
            .store
            .purge_verification_secrets(now - VERIFICATION_SECRETS_KEPT)
            .await?;
        report.provisioning_secrets = self
            .store
            .purge_provisioning_secrets(now - PROVISIONING_SECRETS_KEPT)
            .await?;
        if report.provisioning_secrets > 0 {
            // Cached, a forgotten secret would still be refused as revoked: forget it here too.
            self.credentials_changed();
        }
        self.store.purge_rollups(now - ROLLUPS_KEPT).await?;
        report.longest_batch_ms = size.longest_ms();
        if report.deliveries + report.events + report.notifications > 0 {
            let (pages, longest_ms) = self.reclaim_space(pacing).await?;
            report.pages_reclaimed = pages;
            report.longest_batch_ms = report.longest_batch_ms.max(longest_ms);
        }
        Ok(report)
    }

    async fn purge_account(
        &self,
        account: &AccountId,
        before: DateTime<Utc>,
        size: &mut BatchSize,
        pacing: Pacing,
    ) -> ServiceResult<PurgeReport> {
        let mut report = PurgeReport::default();
        loop {
            let limit = size.get();
            let batch = self.store.purge_deliveries(account, before, limit).await?;
            size.observe(batch.held);
            report.deliveries += batch.deliveries;
            report.attempts += batch.attempts;
            if batch.scanned < u64::from(limit) {
                break;
            }
            pause(pacing).await;
        }
        let mut after = 0;
        loop {
            let batch = self
                .store
                .purge_events(account, before, after, size.get() * 4)
                .await?;
            size.observe(batch.held);
            report.events += batch.events;
            let Some(next) = batch.next_after else { break };
            after = next;
            pause(pacing).await;
        }
        loop {
            let limit = size.get();
            let batch = self
                .store
                .purge_notifications(account, before, limit)
                .await?;
            size.observe(batch.held);
            report.notifications += batch.notifications;
            if batch.notifications < u64::from(limit) {
                break;
            }
            pause(pacing).await;
        }
        Ok(report)
    }

    /// Gives the pages purges freed back to the file system, in steps sized like the batches,
    /// but keeps a quarter of the file free: at a steady rate the next interval's rows fill the
    /// pages a purge freed, and giving them back only to grow the file again costs the writer
    /// twice. What a shorter retention or a quieter account leaves free beyond that goes back.
    async fn reclaim_space(&self, pacing: Pacing) -> ServiceResult<(u64, u64)> {
        let mut reclaimed = 0;
        let mut step = BatchSize::new(pacing.batch_target);
        let mut pages = self.store.reclaim_space(0).await?;
        while pages.free > pages.total / FREE_RESERVE_DIVISOR {
            let excess = pages.free - pages.total / FREE_RESERVE_DIVISOR;
            let ask = u32::try_from(excess)
                .unwrap_or(u32::MAX)
                .min(step.get() * PAGES_PER_ROW);
            let started = Instant::now();
            let left = self.store.reclaim_space(ask).await?;
            step.observe(started.elapsed());
            if left.free >= pages.free {
                break;
            }
            reclaimed += pages.free - left.free;
            pages = left;
            pause(pacing).await;
        }
        Ok((reclaimed, step.longest_ms()))
    }
}

async fn pause(pacing: Pacing) {
    if !pacing.pause.is_zero() {
        tokio::time::sleep(pacing.pause).await;
    }
}

/// How often a server purges by itself.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Purges every account now and then every `interval`, until `shutdown` turns true. Several
/// servers on one database may purge at once: each batch deletes only what is still there.
/// `keep` overrides every account's retention (benchmarks: minutes instead of days).
pub async fn run_retention(
    services: Services,
    interval: Duration,
    keep: Option<Duration>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        let scope = PurgeScope {
            account: None,
            before: keep.map(|keep| {
                services.clock.now() - chrono::Duration::from_std(keep).unwrap_or_default()
            }),
        };
        if let Err(error) = services.purge(&scope, Pacing::BACKGROUND).await {
            tracing::warn!(%error, "purging what accounts no longer keep failed");
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
}
