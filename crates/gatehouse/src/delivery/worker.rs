//! The delivery worker: leases due deliveries in batches, sends each (at most
//! `max_in_flight` at once, at most `max_in_flight_per_webhook` to one webhook, and no faster
//! than a webhook's rate limit), and records the outcomes in batches — one transaction for many
//! attempts, with their retries, failure counts and notices.
//!
//! Nothing lives only here: a delivery is leased, not taken. Leases are short (`lease`, 6 s by
//! default) and renewed every quarter of that while the process holds them — waiting to be
//! sent, in flight, or waiting to be recorded — so an attempt that runs long is never sent
//! twice, while a process that dies loses its leases within one lease: any worker then sends
//! them again (at least once). On SQLite, where one process delivers, a starting worker gives
//! back every lease at once. Wake-ups come from the store's signal (this process's commits, and
//! on PostgreSQL every process's); polling is the fallback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Semaphore, mpsc, watch};

use super::ports::{DeliveryQueue, SigningMaterial};
use super::retry::{NextAttempt, next_attempt, random_jitter};
use super::sender::{AttemptOutcome, OutgoingRequest};
use super::signer::Signer;
use crate::domain::message::{AttemptFacts, EnvelopeFacts, Subject, attempt_headers, message_body};
use crate::domain::{DeliveryAttempt, DeliveryId, WebhookId};
use crate::store::{AttemptRecord, Claim, ClaimedDelivery, Handed, WorkerId};

pub const DELIVERIES_TOTAL: &str = "gatehouse_webhook_deliveries_total";
pub const ATTEMPT_DURATION_SECONDS: &str = "gatehouse_webhook_attempt_duration_seconds";
pub const QUEUE_DUE: &str = "gatehouse_webhook_queue_due";
pub const QUEUE_PENDING: &str = "gatehouse_webhook_queue_pending";
pub const OLDEST_DUE_AGE_SECONDS: &str = "gatehouse_webhook_oldest_due_age_seconds";

/// How retries are spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// ±`JITTER_PERCENT`, at random (production).
    Random,
    /// Always this value in `[-1, 1]` (tests that pin the schedule).
    Fixed(f64),
}

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Deliveries leased per claim.
    pub batch_size: u32,
    /// How long a lease lasts without renewal: how soon deliveries held by a process that died
    /// are taken over. Renewed every quarter of it while held, so it need not outlast an
    /// attempt.
    pub lease: Duration,
    /// How often to look for due deliveries when nothing signals.
    pub poll_interval: Duration,
    /// Attempts in flight at once, across all webhooks.
    pub max_in_flight: usize,
    /// Attempts in flight at once to one webhook: a slow receiver holds only these.
    pub max_in_flight_per_webhook: usize,
    /// Outcomes recorded per transaction, at most.
    pub record_batch_size: usize,
    /// The `instance_name` messages carry.
    pub instance_name: String,
    pub jitter: Jitter,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            batch_size: 256,
            lease: Duration::from_secs(6),
            poll_interval: Duration::from_secs(1),
            max_in_flight: 512,
            max_in_flight_per_webhook: 32,
            record_batch_size: 512,
            instance_name: "gatehouse".to_owned(),
            jitter: Jitter::Random,
        }
    }
}

/// Per-webhook bookkeeping of this process: deliveries leased and not yet handed to the
/// recorder, the permits that cap attempts in flight to it, for rate-limited webhooks the
/// earliest moment the next attempt may start (a virtual schedule: each attempt books the next
/// free slot), and how long its attempts take.
struct Slots {
    claimed: usize,
    sending: Arc<Semaphore>,
    /// Where other processes deliver too, the webhook's sends counted with theirs.
    shared_rate: Arc<SharedRate>,
    next_free: Option<Instant>,
    /// Attempt duration, smoothed (exponentially weighted); `None` before the first.
    latency: Option<Duration>,
    last_used: Instant,
}

/// Rounds (of `max_in_flight_per_webhook` attempts) a fast webhook may have leased at once.
const MAX_ROUNDS: usize = 16;

/// Deliveries leased at once by one process, in multiples of `max_in_flight`.
const HELD_PER_IN_FLIGHT: usize = 4;

/// Runs the worker until `shutdown` turns true; attempts in flight then finish and are recorded.
/// `backend` is what delivery needs of the rest of Gatehouse (`delivery::ports`): `serve`
/// passes its `Services`.
pub async fn run<Backend>(
    backend: Backend,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) where
    Backend: DeliveryQueue + SigningMaterial + Clone,
{
    let held_capacity = settings.max_in_flight.max(1) * HELD_PER_IN_FLIGHT;
    let worker = Arc::new(Worker {
        id: uuid::Uuid::now_v7(),
        permits: Arc::new(Semaphore::new(settings.max_in_flight)),
        held: Arc::new(Semaphore::new(held_capacity)),
        queue: Arc::new(backend.clone()),
        sender: backend.sender(),
        settings,
        slots: Mutex::new(HashMap::new()),
        room: tokio::sync::Notify::new(),
        signer: Signer::new(Arc::new(backend.clone()), backend.base_url()),
        leased: Mutex::new(HashMap::new()),
        limits_shared: backend.limits_shared(),
    });
    match worker.queue.release_orphaned(worker.queue.now()).await {
        Ok(0) => {}
        Ok(released) => {
            tracing::info!(
                released,
                "gave back the leases of a process that stopped without recording them"
            );
        }
        Err(error) => {
            tracing::warn!(%error, "could not give back leases left by a stopped process; they run out by themselves")
        }
    }
    let renewal = tokio::spawn(renew_leases(worker.clone()));
    let (outcomes, receiver) = mpsc::channel(worker.settings.record_batch_size.max(1) * 2);
    let recorder = tokio::spawn(record_outcomes(worker.clone(), receiver));
    let signal = worker.queue.deliveries_signal();
    // Deliveries of events published through this process, leased to this worker as they were
    // made: they need no claim. Not those of a webhook the next claim would exclude for want of
    // room: handed, they would only be given back.
    let full: crate::store::webhooks::FullWebhooks = {
        let worker = Arc::downgrade(&worker);
        Arc::new(move || {
            worker
                .upgrade()
                .map_or_else(Vec::new, |worker| worker.room().excluded)
        })
    };
    let mut handed =
        worker
            .queue
            .hand_off_to(worker.id, worker.settings.lease, worker.held.clone(), full);
    tracing::info!(worker = %worker.id, "delivery worker started");
    let mut claim = true;
    while !*shutdown.borrow() {
        if claim {
            if worker.held.available_permits() == 0 {
                // This process holds all it may: wait until one is recorded.
                tokio::select! {
                    permit = worker.held.acquire() => drop(permit),
                    changed = shutdown.changed() => if changed.is_err() { break } else { continue },
                }
            }
            let more_due = match worker.claim_and_dispatch(&outcomes).await {
                Ok(full) => full,
                Err(error) => {
                    tracing::warn!(%error, "claiming due deliveries failed; retrying");
                    false
                }
            };
            // A claim that got less than it asked for took all it could: the next waits for a
            // signal (a commit, or room for a webhook), which a commit meanwhile has already
            // given. Claiming again at once cost an empty claim per message at everyday rates.
            if more_due {
                continue;
            }
        }
        claim = true;
        tokio::select! {
            () = signal.notified() => {}
            () = worker.room.notified() => {}
            Some(batches) = next_handed(&mut handed) => {
                worker.take_handed(batches, &outcomes).await;
                claim = false;
            }
            () = tokio::time::sleep(worker.settings.poll_interval) => {}
            // The sender gone counts as the order to stop.
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
    // Nothing more is handed to a stopping worker; what was is in flight.
    drop(handed);
    drop(outcomes);
    // Leased deliveries hold a permit until they have handed their outcome to the recorder.
    let all = u32::try_from(held_capacity).unwrap_or(u32::MAX);
    let _ = worker.held.acquire_many(all).await;
    let _ = recorder.await;
    renewal.abort();
    tracing::info!(worker = %worker.id, "delivery worker stopped");
}

/// The next deliveries handed over at publishing, with any handed meanwhile; never, where
/// there is no hand-off.
async fn next_handed(handed: &mut Option<mpsc::UnboundedReceiver<Handed>>) -> Option<Vec<Handed>> {
    let receiver = handed.as_mut()?;
    let mut batches = vec![receiver.recv().await?];
    while let Ok(more) = receiver.try_recv() {
        batches.push(more);
    }
    Some(batches)
}

/// The handed deliveries whose lease lasts until `held_until` or later, in the order handed,
/// and how many others there were.
fn held_until_at_least(
    batches: Vec<Handed>,
    held_until: chrono::DateTime<chrono::Utc>,
) -> (Vec<ClaimedDelivery>, chrono::DateTime<chrono::Utc>, usize) {
    let (held, running_out): (Vec<Handed>, Vec<Handed>) = batches
        .into_iter()
        .partition(|batch| batch.held_until >= held_until);
    let running_out = running_out.iter().map(|batch| batch.deliveries.len()).sum();
    let earliest_end = held
        .iter()
        .map(|batch| batch.held_until)
        .min()
        .unwrap_or(held_until);
    let held = held
        .into_iter()
        .flat_map(|batch| batch.deliveries)
        .collect();
    (held, earliest_end, running_out)
}

/// Every quarter of a lease until the worker stops, renews this process's leases that are
/// older than an eighth of a lease (`due_for_renewal`), so that none runs out while its
/// delivery waits, is in flight, or waits to be recorded.
async fn renew_leases(worker: Arc<Worker>) {
    let lease = worker.settings.lease;
    let lease_length = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let mut ticks = tokio::time::interval(lease / 4);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = worker.queue.now();
        let due = due_for_renewal(&worker.leased(), now, lease_length);
        if due.is_empty() {
            continue;
        }
        let lease_until = now + lease_length;
        match worker.queue.renew(worker.id, &due, lease_until).await {
            Ok(_) => {
                let mut leased = worker.leased();
                for id in &due {
                    if let Some(until) = leased.get_mut(id) {
                        *until = lease_until;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, leases = due.len(), "renewing leases failed; retrying");
            }
        }
    }
}

/// The leases to renew at a tick: those with less than seven eighths of `lease` left. Ticks
/// come every quarter lease, so a lease is renewed with at least five eighths left (3.75 s of
/// the default 6 s), and one taken within the last eighth of a lease waits for the next tick —
/// by then most deliveries of a backlog have been sent and recorded, and their rows are not
/// written a third time for a renewal (three nodes draining renewed 3 deliveries in 4).
fn due_for_renewal(
    leased: &HashMap<DeliveryId, chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
    lease: chrono::Duration,
) -> Vec<DeliveryId> {
    let renew_below = lease - lease / 8;
    leased
        .iter()
        .filter(|(_, until)| **until - now < renew_below)
        .map(|(id, _)| *id)
        .collect()
}

struct Worker {
    id: WorkerId,
    queue: Arc<dyn DeliveryQueue>,
    sender: Arc<super::sender::Sender>,
    settings: WorkerSettings,
    slots: Mutex<HashMap<WebhookId, Slots>>,
    /// Attempts in flight, across all webhooks.
    permits: Arc<Semaphore>,
    /// Deliveries leased and not yet handed to the recorder.
    held: Arc<Semaphore>,
    /// Signalled when a webhook this process had saturated can take more: the claim that
    /// skipped it may now lease its next round.
    room: tokio::sync::Notify,
    signer: Signer,
    /// Deliveries this process leased and has not recorded yet, with the end of each lease as
    /// last set: the leases it renews.
    leased: Mutex<HashMap<DeliveryId, chrono::DateTime<Utc>>>,
    /// Whether other processes deliver from the same database (rate limits count with them).
    limits_shared: bool,
}

/// A webhook's `rate_limit_per_second` counted with every process that delivers: this
/// process's share of the current second, reserved from the database a tenth of the limit at a
/// time. Each process also paces its own sends at the rate (`Slots::next_free`); this keeps the
/// processes together within it. Seconds are the wall clock's, the same on every node.
#[derive(Default)]
struct SharedRate {
    window: tokio::sync::Mutex<SharedWindow>,
}

#[derive(Default)]
struct SharedWindow {
    /// The second (Unix time) `left` belongs to.
    second: i64,
    /// Sends reserved and not yet made in `second`.
    left: u32,
    /// The second's limit is used up: wait for the next one without asking again.
    exhausted: bool,
}

impl SharedRate {
    /// Waits until this process may make one more send to `webhook` within `rate` per second
    /// across all processes. If the database can't be asked, the send goes ahead: this
    /// process's own pacing still holds it to the rate.
    async fn acquire(&self, queue: &dyn DeliveryQueue, webhook: WebhookId, rate: u32) {
        loop {
            let now = Utc::now();
            let second = now.timestamp();
            {
                let mut window = self.window.lock().await;
                if window.second != second {
                    *window = SharedWindow {
                        second,
                        ..SharedWindow::default()
                    };
                }
                if window.left == 0 && !window.exhausted {
                    let want = (rate / 10).clamp(1, 100);
                    match queue.reserve_sends(webhook, second, want, rate).await {
                        Ok(grant) => {
                            window.left = grant.granted;
                            window.exhausted = grant.granted == 0;
                        }
                        Err(error) => {
                            tracing::warn!(%error, %webhook, "the shared rate limit could not be read; sending at this process's pace");
                            return;
                        }
                    }
                }
                if window.left > 0 {
                    window.left -= 1;
                    return;
                }
            }
            let into_second = u64::from(now.timestamp_subsec_millis());
            tokio::time::sleep(Duration::from_millis(1_000 - into_second.min(999))).await;
        }
    }
}

/// What to do with one claimed delivery.
enum Plan {
    /// Send after `delay` (the rate limit), holding one of the webhook's `sending` permits;
    /// where other processes deliver too, only once `shared` grants a send.
    Send {
        delay: Duration,
        sending: Arc<Semaphore>,
        shared: Option<(Arc<SharedRate>, u32)>,
    },
    /// The webhook can take no more now: give the lease back.
    Release,
}

/// What this process may still lease for the webhooks it knows, for the next claim.
struct Room {
    /// Webhooks with less than a round of room, or booked beyond the next second by their
    /// rate limit.
    excluded: Vec<WebhookId>,
    /// The others, with how many more each may take.
    room: Vec<(WebhookId, u32)>,
}

/// Known webhooks a claim names with their own room, at most (others get the default).
const ROOM_LIST_MAX: usize = 128;

impl Worker {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, Slots>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn leased(&self) -> std::sync::MutexGuard<'_, HashMap<DeliveryId, chrono::DateTime<Utc>>> {
        self.leased
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many deliveries of one webhook this process may hold: two rounds of
    /// `max_in_flight_per_webhook` (one in flight, one waiting, so each waits at most about
    /// one attempt's timeout) for a slow or unknown receiver; for a fast one as many rounds as
    /// it answers in a quarter of the lease, up to `MAX_ROUNDS`. Fewer, larger claims are what
    /// let one busy receiver take thousands of messages a second.
    fn budget(&self, slot: Option<&Slots>) -> usize {
        let rounds = slot.and_then(|slot| slot.latency).map_or(2, |latency| {
            let quarter_lease = self.settings.lease.as_secs_f64() / 4.0;
            (quarter_lease / latency.as_secs_f64().max(0.000_1)) as usize
        });
        self.settings.max_in_flight_per_webhook.max(1) * rounds.clamp(2, MAX_ROUNDS)
    }

    /// What the next claim may take, webhook by webhook.
    fn room(&self) -> Room {
        let now = Instant::now();
        let horizon = now + Duration::from_secs(1);
        let round = self.settings.max_in_flight_per_webhook.max(1);
        let default = 2 * round;
        let mut slots = self.slots();
        slots.retain(|_, slot| {
            slot.claimed > 0
                || slot.next_free.is_some_and(|at| at > now)
                || now.duration_since(slot.last_used) < Duration::from_secs(60)
        });
        let mut room = Room {
            excluded: Vec::new(),
            room: Vec::new(),
        };
        for (id, slot) in slots.iter() {
            let left = self.budget(Some(slot)).saturating_sub(slot.claimed);
            if left < round || slot.next_free.is_some_and(|at| at > horizon) {
                room.excluded.push(*id);
            } else if left != default && room.room.len() < ROOM_LIST_MAX {
                room.room
                    .push((*id, u32::try_from(left).unwrap_or(u32::MAX)));
            }
        }
        room
    }

    /// Books a slot for one delivery to `webhook`, or says to give it back. A webhook may have
    /// up to two rounds leased: one in flight, one waiting for its permits — so each waits at
    /// most about one attempt's timeout, well within its lease.
    fn plan(&self, webhook: WebhookId, rate_limit_per_second: Option<u32>) -> Plan {
        let cap = self.settings.max_in_flight_per_webhook.max(1);
        let mut slots = self.slots();
        let slot = slots.entry(webhook).or_insert_with(|| Slots {
            claimed: 0,
            sending: Arc::new(Semaphore::new(cap)),
            shared_rate: Arc::new(SharedRate::default()),
            next_free: None,
            latency: None,
            last_used: Instant::now(),
        });
        if slot.claimed >= self.budget(Some(slot)) {
            return Plan::Release;
        }
        slot.last_used = Instant::now();
        let now = Instant::now();
        let mut delay = Duration::ZERO;
        let rate = rate_limit_per_second.filter(|rate| *rate > 0);
        if let Some(rate) = rate {
            let start = slot.next_free.filter(|at| *at > now).unwrap_or(now);
            delay = start - now;
            if delay > self.settings.lease / 2 {
                return Plan::Release;
            }
            slot.next_free = Some(start + Duration::from_secs_f64(1.0 / f64::from(rate)));
        }
        slot.claimed += 1;
        Plan::Send {
            delay,
            sending: slot.sending.clone(),
            shared: rate
                .filter(|_| self.limits_shared)
                .map(|rate| (slot.shared_rate.clone(), rate)),
        }
    }

    /// Counts a delivery of `webhook` done with (sent, taking `took`, or never sent) and
    /// signals when that gives the webhook a round of room again.
    fn finished(&self, webhook: WebhookId, took: Option<Duration>) {
        let round = self.settings.max_in_flight_per_webhook.max(1);
        let mut slots = self.slots();
        if let Some(slot) = slots.get_mut(&webhook) {
            let room_before = self.budget(Some(slot)).saturating_sub(slot.claimed);
            slot.claimed = slot.claimed.saturating_sub(1);
            if let Some(took) = took {
                slot.latency = Some(match slot.latency {
                    Some(smoothed) => smoothed.mul_f64(0.8) + took.mul_f64(0.2),
                    None => took,
                });
            }
            // The budget moves with the latency, so the room may jump past a round.
            let room_after = self.budget(Some(slot)).saturating_sub(slot.claimed);
            if room_before < round && room_after >= round {
                self.room.notify_one();
            }
        }
    }

    /// Leases a batch and starts sending it; says whether the batch was full (more may be due).
    async fn claim_and_dispatch(
        self: &Arc<Self>,
        outcomes: &mpsc::Sender<AttemptRecord>,
    ) -> Result<bool, crate::store::StoreError> {
        let capacity = self.held.available_permits().max(1);
        let limit = u32::try_from(capacity)
            .unwrap_or(u32::MAX)
            .min(self.settings.batch_size);
        let now = self.queue.now();
        let lease_until =
            now + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let room = self.room();
        let claim = Claim {
            worker: self.id,
            now,
            lease_until,
            limit,
            per_webhook: u32::try_from(self.budget(None)).unwrap_or(u32::MAX),
            excluded: &room.excluded,
            room: &room.room,
        };
        let claimed = self.queue.claim(&claim).await?;
        let count = claimed.len();
        self.dispatch(claimed, lease_until, now, outcomes).await?;
        Ok(count >= usize::try_from(limit).unwrap_or(usize::MAX))
    }

    /// Starts sending the deliveries handed to this worker at publishing (and any handed
    /// meanwhile). If that fails their leases run out and any worker claims them.
    async fn take_handed(
        self: &Arc<Self>,
        batches: Vec<Handed>,
        outcomes: &mpsc::Sender<AttemptRecord>,
    ) {
        let now = self.queue.now();
        // Leases are renewed every quarter of a lease once taken: one with less than half
        // left might run out first, and another worker claim it while it is in flight. Such
        // a delivery is left to run out, and any worker claims it then.
        let held_until =
            now + chrono::Duration::from_std(self.settings.lease / 2).unwrap_or_default();
        let (claimed, lease_until, running_out) = held_until_at_least(batches, held_until);
        if running_out > 0 {
            tracing::warn!(
                deliveries = running_out,
                "deliveries handed over at publishing waited too long to be sent under their lease; they are claimed when it runs out"
            );
        }
        if let Err(error) = self.dispatch(claimed, lease_until, now, outcomes).await {
            tracing::warn!(%error, "starting deliveries handed over at publishing failed; their leases run out and they are claimed again");
        }
    }

    /// Starts sending deliveries leased until `lease_until` (at least): each that may go now is
    /// booked on its webhook and sent; the rest are given back (parked, if their webhook can't
    /// be sent to).
    async fn dispatch(
        self: &Arc<Self>,
        claimed: Vec<ClaimedDelivery>,
        lease_until: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
        outcomes: &mpsc::Sender<AttemptRecord>,
    ) -> Result<(), crate::store::StoreError> {
        let mut parked = Vec::new();
        let mut released = Vec::new();
        for delivery in claimed {
            if !delivery.deliverable {
                parked.push(delivery.id);
                continue;
            }
            match self.plan(delivery.webhook_id, delivery.rate_limit_per_second) {
                Plan::Release => released.push(delivery.id),
                Plan::Send {
                    delay,
                    sending,
                    shared,
                } => {
                    let held = match self.held.clone().try_acquire_owned() {
                        Ok(permit) => permit,
                        Err(_) => match self.held.clone().acquire_owned().await {
                            Ok(permit) => permit,
                            Err(_) => {
                                self.finished(delivery.webhook_id, None);
                                released.push(delivery.id);
                                continue;
                            }
                        },
                    };
                    self.leased().insert(delivery.id, lease_until);
                    let worker = self.clone();
                    let outcomes = outcomes.clone();
                    tokio::spawn(async move {
                        let Ok(sending) = sending.acquire_owned().await else {
                            return;
                        };
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        if let Some((shared, rate)) = shared {
                            shared
                                .acquire(worker.queue.as_ref(), delivery.webhook_id, rate)
                                .await;
                        }
                        let Ok(in_flight) = worker.permits.clone().acquire_owned().await else {
                            return;
                        };
                        let webhook = delivery.webhook_id;
                        let (record, took) = worker.attempt(delivery).await;
                        drop((in_flight, sending));
                        worker.finished(webhook, Some(took));
                        // Waits while the recorder is behind: sending no faster than outcomes
                        // are recorded bounds what a crash makes us send twice. If the recorder
                        // is gone the process is stopping, and the lease will run out.
                        let _ = outcomes.send(record).await;
                        drop(held);
                    });
                }
            }
        }
        if !parked.is_empty() {
            self.queue.release(self.id, &parked, true, now).await?;
        }
        if !released.is_empty() {
            self.queue.release(self.id, &released, false, now).await?;
        }
        Ok(())
    }

    /// Sends one delivery and describes what came of it, and how long it took.
    async fn attempt(&self, mut delivery: ClaimedDelivery) -> (AttemptRecord, Duration) {
        let envelope = EnvelopeFacts {
            webhook_name: delivery.webhook_name.clone(),
            base_url: self.queue.base_url().to_owned(),
            instance_name: self.settings.instance_name.clone(),
        };
        // The message its first attempt built, built again to the byte (or, for a delivery
        // stored before schema 17, the bytes kept).
        let body = match (delivery.request_body.take(), &delivery.message_envelope) {
            (Some(body), _) => body,
            (None, Some(first)) => self.message(&delivery, first),
            (None, None) => self.message(&delivery, &envelope),
        };
        let attempt_number = delivery.attempts_made + 1;
        let sent_at = self.queue.now();
        let mut headers = attempt_headers(&AttemptFacts {
            delivery_id: delivery.id.0,
            webhook_id: delivery.webhook_id.0,
            event: &delivery.event,
            attempt: attempt_number,
            sent_at,
        });
        let signed = match self.signer.uri_password(&delivery) {
            Ok(password) => self
                .signer
                .sign(&delivery, &body, sent_at)
                .await
                .map(|signed| (signed, password)),
            Err(error) => Err(format!("the URI's password: {error}")),
        };
        let (sent_body, signed_by, outcome) = match signed {
            Ok((signed, password)) => {
                headers.splice(0..0, signed.headers);
                let outcome = self
                    .sender
                    .send(&OutgoingRequest {
                        uri: &delivery.uri,
                        password: password.as_ref().map(|password| password.as_str()),
                        headers: &headers,
                        body: signed.body.as_deref().unwrap_or(&body),
                    })
                    .await;
                (signed.body, signed.signed_by, outcome)
            }
            // Nothing goes out unsigned: the attempt fails without a request, and is
            // retried on the usual schedule.
            Err(error) => {
                tracing::warn!(delivery = %delivery.id, %error, "could not sign a delivery");
                let outcome = AttemptOutcome::not_sent(format!("could not sign: {error}"));
                (None, None, outcome)
            }
        };
        // The exact bytes are kept apart only when they are not the message (signed anew on
        // every attempt).
        let sent_body = sent_body.map(|sent| String::from_utf8_lossy(&sent).into_owned());
        let succeeded = outcome.succeeded();
        let next_attempt_at = if succeeded {
            None
        } else {
            let jitter = match self.settings.jitter {
                Jitter::Random => random_jitter(),
                Jitter::Fixed(value) => value,
            };
            match next_attempt(attempt_number, outcome.status, outcome.retry_after, jitter) {
                NextAttempt::After(wait) => Some(
                    self.queue.now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                ),
                NextAttempt::GiveUp => None,
            }
        };
        observe(&outcome, succeeded, next_attempt_at.is_some());
        let took = outcome.duration;
        let record = AttemptRecord {
            delivery_id: delivery.id,
            webhook_id: delivery.webhook_id,
            account_id: delivery.account_id,
            event: delivery.event,
            ordered: delivery.ordered,
            envelope,
            failure: (!succeeded).then(|| failure_text(&outcome)),
            attempt: DeliveryAttempt {
                attempt: attempt_number,
                request_uri: delivery.uri,
                request_headers: headers,
                response_status: outcome.status,
                response_headers: outcome.response_headers,
                response_body: outcome.response_body,
                duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
                error: outcome.error,
                sent_at,
                request_body: sent_body,
                webhook_policy_id: signed_by.as_ref().map(|(policy, _)| *policy),
                signing_key_id: signed_by.map(|(_, key)| key),
            },
            succeeded,
            next_attempt_at,
        };
        (record, took)
    }

    /// The message bytes `facts` build for `delivery`.
    fn message(&self, delivery: &ClaimedDelivery, facts: &EnvelopeFacts) -> Vec<u8> {
        let subject = Subject {
            account_id: &delivery.account_id,
            name: &delivery.event,
            object_id: &delivery.object_id,
            actor: delivery.actor.as_ref(),
            payload: &delivery.payload,
        };
        let envelope = facts.envelope(delivery.webhook_id.0);
        message_body(&envelope, subject)
    }
}

/// What a failed attempt is called in notices: `HTTP 503`, or the connection-level error.
fn failure_text(outcome: &AttemptOutcome) -> String {
    match (&outcome.error, outcome.status) {
        (Some(error), Some(status)) => format!("HTTP {status}, then {error}"),
        (Some(error), None) => error.clone(),
        (None, Some(status)) => format!("HTTP {status}"),
        (None, None) => "no response".to_owned(),
    }
}

fn observe(outcome: &AttemptOutcome, succeeded: bool, retrying: bool) {
    let label = if succeeded {
        "succeeded"
    } else if retrying {
        "retrying"
    } else {
        "failed"
    };
    metrics::counter!(DELIVERIES_TOTAL, "outcome" => label).increment(1);
    metrics::histogram!(ATTEMPT_DURATION_SECONDS).record(outcome.duration.as_secs_f64());
}

/// A batch of fewer outcomes than this waits `RECORD_LINGER` for more before it is recorded.
/// 50 ms: at 300 deliveries a second a statement then records about fifteen outcomes instead of
/// three or four (10 ms) or one or two (2 ms); each step cut PostgreSQL's CPU per message by an
/// eighth or more, with publish → receipt no slower (BENCHMARKS.md, "Recording lingers" and
/// "Recording lingers 50 ms"). A receipt does not wait for its record; only a delivery's status
/// is shown up to 50 ms later, and a batch that may hold up an ordered webhook is not held.
const RECORD_LINGER_BELOW: usize = 32;
const RECORD_LINGER: Duration = Duration::from_millis(50);

/// Records outcomes as they come, many per transaction. A failed write is retried: the
/// attempts happened and the leases are still held, so giving up would only resend them.
async fn record_outcomes(worker: Arc<Worker>, mut receiver: mpsc::Receiver<AttemptRecord>) {
    let mut batch = Vec::with_capacity(worker.settings.record_batch_size);
    loop {
        if receiver
            .recv_many(&mut batch, worker.settings.record_batch_size)
            .await
            == 0
        {
            return;
        }
        // Outcomes that trickle in (signed deliveries, slow receivers) would each cost a
        // transaction: at 1,700 signed deliveries a second SQLite spent four times as much per
        // delivery as at full speed (BENCHMARKS.md). A short wait lets a few more join. It
        // can't cap throughput: the wait takes in whatever arrived meanwhile, and a batch still
        // under the threshold after it means outcomes arrive slower than 640 a second; and it
        // is skipped when the batch may hold up an ordered webhook's next message.
        if batch.len() < RECORD_LINGER_BELOW && !batch.iter().any(|record| record.ordered) {
            tokio::time::sleep(RECORD_LINGER).await;
            while batch.len() < worker.settings.record_batch_size {
                match receiver.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
        }
        let mut wait = Duration::from_millis(50);
        for _ in 0..10 {
            let now = worker.queue.now();
            match worker.queue.record(worker.id, &batch, now).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, attempts = batch.len(), "recording delivery attempts failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        // Recorded — or, after ten failures, left for the lease to run out and another
        // attempt to be made: either way no longer this process's to renew.
        let mut leased = worker.leased();
        for record in &batch {
            leased.remove(&record.delivery_id);
        }
        drop(leased);
        batch.clear();
    }
}

/// How often upkeep runs: queue gauges, idempotency keys, mailing notices.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Keeps the queue gauges current, forgets expired idempotency keys and mails stored notices
/// every `UPKEEP_INTERVAL`, until `shutdown`.
pub async fn run_upkeep(
    queue: impl DeliveryQueue,
    mailer: Option<Arc<super::mail::Mailer>>,
    shutdown: watch::Receiver<bool>,
) {
    run_upkeep_every(queue, mailer, UPKEEP_INTERVAL, shutdown).await;
}

/// `run_upkeep` at another pace (tests).
pub async fn run_upkeep_every(
    queue: impl DeliveryQueue,
    mailer: Option<Arc<super::mail::Mailer>>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_purge: Option<Instant> = None;
    while !*shutdown.borrow() {
        let now = queue.now();
        match queue.queue_unqueued(now).await {
            Ok(0) => {}
            Ok(moved) => tracing::info!(moved, "queued deliveries an earlier release scheduled"),
            Err(error) => {
                tracing::warn!(%error, "queueing what an earlier release scheduled failed")
            }
        }
        match queue.queue_stats(now).await {
            Ok(stats) => {
                metrics::gauge!(QUEUE_DUE).set(stats.due as f64);
                metrics::gauge!(QUEUE_PENDING).set(stats.pending as f64);
                let age = stats.oldest_due_at.map_or(0.0, |oldest| {
                    (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
                });
                metrics::gauge!(OLDEST_DUE_AGE_SECONDS).set(age);
            }
            Err(error) => tracing::warn!(%error, "reading the delivery queue's size failed"),
        }
        if last_purge.is_none_or(|at| at.elapsed() > Duration::from_secs(3600)) {
            if let Err(error) = queue.forget_expired_idempotency_keys(Utc::now()).await {
                tracing::warn!(%error, "forgetting expired idempotency keys failed");
            }
            if let Err(error) = queue.forget_past_limits(Utc::now()).await {
                tracing::warn!(%error, "forgetting past rate-limit windows failed");
            }
            last_purge = Some(Instant::now());
        }
        if let Some(mailer) = &mailer {
            mail_notifications(&queue, mailer).await;
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
}

async fn mail_notifications(queue: &impl DeliveryQueue, mailer: &super::mail::Mailer) {
    let now = queue.now();
    let lease_until = now + chrono::Duration::minutes(5);
    let unsent = match queue.claim_unsent_notices(now, lease_until, 50).await {
        Ok(unsent) => unsent,
        Err(error) => {
            tracing::warn!(%error, "reading unsent notifications failed");
            return;
        }
    };
    for notification in unsent {
        let mail = super::mail::compose_notice(&notification, queue.base_url());
        let result = if notification.recipients.is_empty() {
            Err("no recipients: the webhook names none and the account has no administrator with an email".to_owned())
        } else {
            mailer
                .send(&notification.recipients, &mail)
                .await
                .map_err(|error| error.to_string())
        };
        let (sent_at, error) = match &result {
            Ok(()) => (Some(queue.now()), None),
            Err(error) => {
                tracing::warn!(notification = %notification.id, %error, "mailing a webhook notice failed");
                (None, Some(error.as_str()))
            }
        };
        if let Err(error) = queue.mark_notice(notification.id, sent_at, error).await {
            tracing::warn!(%error, "recording a mailed notice failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, DeliveryId, WebhookId};

    fn delivery(event_id: i64) -> ClaimedDelivery {
        ClaimedDelivery {
            id: DeliveryId(uuid::Uuid::now_v7()),
            account_id: AccountId::parse("acme").expect("account id"),
            webhook_id: WebhookId(uuid::Uuid::now_v7()),
            event_id,
            event: "request.created".to_owned(),
            attempts_made: 0,
            request_body: None,
            message_envelope: None,
            webhook_name: "hook".to_owned(),
            uri: "https://example.com/hook".to_owned(),
            uri_password: None,
            deliverable: true,
            ordered: false,
            rate_limit_per_second: None,
            policy: None,
            object_id: event_id.to_string(),
            actor: None,
            payload: serde_json::json!({}),
            event_created_at: Utc::now(),
        }
    }

    /// A handed lease that may run out before the worker's first renewal is not sent: another
    /// worker may claim it then, and the delivery would go twice.
    #[test]
    fn handed_deliveries_go_only_while_their_lease_lasts_long_enough() {
        let at = Utc::now();
        let batch = |seconds: i64, events: &[i64]| Handed {
            deliveries: events.iter().map(|event| delivery(*event)).collect(),
            held_until: at + chrono::Duration::seconds(seconds),
        };
        let (held, earliest_end, running_out) = held_until_at_least(
            vec![batch(30, &[1, 2]), batch(10, &[3]), batch(15, &[4, 5, 6])],
            at + chrono::Duration::seconds(15),
        );
        let events: Vec<i64> = held.iter().map(|delivery| delivery.event_id).collect();
        assert_eq!(events, [1, 2, 4, 5, 6], "in the order handed");
        assert_eq!(earliest_end, at + chrono::Duration::seconds(15));
        assert_eq!(running_out, 1);
    }

    /// A lease younger than an eighth of a lease is left for the next tick; every older one is
    /// renewed, so none is renewed with less than five eighths of a lease left.
    #[test]
    fn only_leases_older_than_an_eighth_of_a_lease_are_renewed() {
        let now = Utc::now();
        let lease = chrono::Duration::seconds(8);
        let fresh = DeliveryId(uuid::Uuid::now_v7());
        let older = DeliveryId(uuid::Uuid::now_v7());
        let short = DeliveryId(uuid::Uuid::now_v7());
        let leased = HashMap::from([
            (fresh, now + chrono::Duration::milliseconds(7_500)),
            (older, now + chrono::Duration::milliseconds(6_999)),
            (short, now + chrono::Duration::seconds(1)),
        ]);
        let mut due = due_for_renewal(&leased, now, lease);
        due.sort_by_key(|id| id.0);
        let mut expected = vec![older, short];
        expected.sort_by_key(|id| id.0);
        assert_eq!(due, expected);
        // A quarter lease later, at the next tick, the fresh one is due too.
        let next_tick = now + lease / 4;
        assert!(due_for_renewal(&leased, next_tick, lease).contains(&fresh));
    }
}
