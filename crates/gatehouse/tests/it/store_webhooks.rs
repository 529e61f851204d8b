//! The delivery queue's storage rules on SQLite and PostgreSQL, through the `Store` trait:
//! fan-out in the event's transaction, leases that never overlap, an expired lease taken over,
//! a stale worker's outcome ignored, parking, and ordered webhooks.

use crate::common;
use crate::common::{Backend, start_time, store};
use chrono::Duration;
use gatehouse::delivery::signing::{ClaimExpiry, JwtAlgorithm};
use gatehouse::domain::message::EnvelopeFacts;
use gatehouse::domain::{
    Account, AccountId, DeliveryAttempt, DeliveryId, DeliveryStatus, JwtFormat, NewEvent,
    NoticeContent, PolicyKey, Webhook, WebhookId, WebhookPolicy, WebhookPolicyId,
    WebhookSecretRecord,
};
use gatehouse::store::{
    AttemptRecord, Claim, DeliveryFilter, ListQuery, NewPolicyKey, SortDirection, SortField, Store,
};
use serde_json::json;
use uuid::Uuid;

fn account() -> Account {
    Account {
        id: AccountId::parse("acme").expect("slug"),
        name: "Acme".to_owned(),
        scim_patch_response: Default::default(),
        delivery_retention_days: Default::default(),
        created_at: start_time(),
        updated_at: start_time(),
    }
}

fn webhook(account: &Account, event: &str, verified: bool, ordered: bool) -> Webhook {
    Webhook {
        id: WebhookId(Uuid::now_v7()),
        account_id: account.id.clone(),
        name: event.to_owned(),
        event: event.to_owned(),
        uri: "http://127.0.0.1:9/hook".to_owned(),
        uri_password: None,
        disabled: false,
        disabled_reason: None,
        description: None,
        webhook_policy_id: None,
        mail_exceptions_to: Vec::new(),
        ordered,
        rate_limit_per_second: None,
        openid_connect_discovery: false,
        source: Default::default(),
        verified_at: verified.then(start_time),
        verification_sent_at: Some(start_time()),
        consecutive_failures: 0,
        last_exception_at: None,
        last_delivery_id: None,
        created_at: start_time(),
        updated_at: start_time(),
    }
}

fn event(account: &Account, name: &str, object_id: &str) -> NewEvent {
    NewEvent::new(&account.id, name, object_id, None, json!({}), start_time())
}

async fn seeded(backend: Backend) -> (std::sync::Arc<dyn Store>, common::DatabaseGuard, Account) {
    let (store, guard) = store(backend).await;
    let account = account();
    store.insert_account(&account).await.expect("account");
    (store, guard, account)
}

/// A sealed secret as the store keeps it (the store never opens one).
fn secret_record(webhook: WebhookId, sealed: &[u8]) -> WebhookSecretRecord {
    WebhookSecretRecord {
        id: Uuid::now_v7(),
        webhook_id: webhook,
        sealed: sealed.to_vec(),
        created_at: start_time(),
        expires_at: None,
    }
}

/// Publishes `app.x.y` events whose object ids are the numbers of `ids`, in order.
async fn publish_numbered(store: &dyn Store, account: &Account, ids: std::ops::Range<u32>) {
    for n in ids {
        publish(store, account, "app.x.y", &n.to_string()).await;
    }
}

/// Stores `webhook`'s changed fields as of `at` (`verified`: whether its verification stands).
async fn change_webhook(
    store: &dyn Store,
    webhook: &mut Webhook,
    at: chrono::DateTime<chrono::Utc>,
    verified: bool,
) {
    webhook.updated_at = at;
    assert!(
        store
            .update_webhook(webhook, None, verified, &[])
            .await
            .expect("update")
    );
}

/// A store with one verified, unordered `app.*` webhook that got the events numbered
/// `published` (object ids "0", "1", …).
async fn published_to_one_webhook(
    backend: Backend,
    published: std::ops::Range<u32>,
) -> (
    std::sync::Arc<dyn Store>,
    common::DatabaseGuard,
    Account,
    Webhook,
) {
    let (store, guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &hook).await;
    publish_numbered(store.as_ref(), &account, published).await;
    (store, guard, account, hook)
}

/// The object ids of claimed deliveries' events, sorted.
fn object_ids(claimed: &[gatehouse::store::ClaimedDelivery]) -> Vec<&str> {
    let mut objects: Vec<&str> = claimed
        .iter()
        .map(|delivery| delivery.object_id.as_str())
        .collect();
    objects.sort_unstable();
    objects
}

/// A store with one verified, unordered `app.*` webhook that got the events numbered `published`,
/// and was then changed by `change` a second after the start.
async fn changed_after_publishing(
    backend: Backend,
    published: std::ops::Range<u32>,
    change: impl FnOnce(&mut Webhook),
) -> (
    std::sync::Arc<dyn Store>,
    common::DatabaseGuard,
    Account,
    Webhook,
) {
    let (store, guard, account, mut hook) = published_to_one_webhook(backend, published).await;
    change(&mut hook);
    change_webhook(
        store.as_ref(),
        &mut hook,
        start_time() + Duration::seconds(1),
        false,
    )
    .await;
    (store, guard, account, hook)
}

async fn add_webhook(store: &dyn Store, webhook: &Webhook) {
    store
        .insert_webhook(
            webhook,
            Some(Uuid::now_v7().as_bytes()),
            &secret_record(webhook.id, b"sealed-1"),
            &[],
        )
        .await
        .expect("webhook");
}

async fn publish(store: &dyn Store, account: &Account, name: &str, object_id: &str) -> u64 {
    match store
        .publish_event(&event(account, name, object_id), None)
        .await
        .expect("publish")
    {
        gatehouse::store::Published::Created { deliveries, .. } => deliveries,
        other => panic!("unexpected {other:?}"),
    }
}

/// Leases as a worker would, with no per-webhook cap to speak of.
async fn claim(
    store: &dyn Store,
    worker: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    lease_until: chrono::DateTime<chrono::Utc>,
    limit: u32,
    excluded: &[WebhookId],
) -> Result<Vec<gatehouse::store::ClaimedDelivery>, gatehouse::store::StoreError> {
    store
        .claim_due_deliveries(&Claim {
            worker,
            now,
            lease_until,
            limit,
            per_webhook: 1_000,
            excluded,
            room: &[],
        })
        .await
}

/// `claim` of up to `limit` deliveries due at `now`, leased for a minute, excluding none.
async fn claim_for_a_minute(
    store: &dyn Store,
    worker: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    limit: u32,
) -> Result<Vec<gatehouse::store::ClaimedDelivery>, gatehouse::store::StoreError> {
    claim(store, worker, now, now + Duration::seconds(60), limit, &[]).await
}

fn envelope_facts() -> EnvelopeFacts {
    EnvelopeFacts {
        webhook_name: "Invoices".to_owned(),
        base_url: "https://gatehouse.example".to_owned(),
        instance_name: "Example".to_owned(),
    }
}

fn outcome(id: DeliveryId, webhook: WebhookId, succeeded: bool, attempt: u32) -> AttemptRecord {
    AttemptRecord {
        delivery_id: id,
        webhook_id: webhook,
        account_id: AccountId::parse("acme").expect("slug"),
        event: "app.x.y".to_owned(),
        ordered: false,
        envelope: envelope_facts(),
        attempt: DeliveryAttempt {
            attempt,
            request_uri: "http://127.0.0.1:9/hook".to_owned(),
            request_headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            response_status: Some(if succeeded { 200 } else { 500 }),
            response_headers: Vec::new(),
            response_body: String::new(),
            duration_ms: 1,
            error: None,
            sent_at: start_time(),
            request_body: None,
            webhook_policy_id: None,
            signing_key_id: None,
        },
        succeeded,
        next_attempt_at: (!succeeded).then(|| start_time() + Duration::seconds(5)),
        failure: (!succeeded).then(|| "HTTP 500".to_owned()),
    }
}

async fn fan_out_reaches_only_active_matching_webhooks(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    add_webhook(
        store.as_ref(),
        &webhook(&account, "app.invoice.paid", true, false),
    )
    .await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", false, false)).await;
    let mut disabled = webhook(&account, "app.*", true, false);
    disabled.disabled = true;
    add_webhook(store.as_ref(), &disabled).await;
    add_webhook(store.as_ref(), &webhook(&account, "other.*", true, false)).await;
    add_webhook(
        store.as_ref(),
        &webhook(&account, "app.invoice.*", true, false),
    )
    .await;
    add_webhook(
        store.as_ref(),
        &webhook(&account, "app.invoice", true, false),
    )
    .await;
    assert_eq!(
        publish(store.as_ref(), &account, "app.invoice.paid", "1").await,
        3
    );
    assert_eq!(
        publish(store.as_ref(), &account, "app.order.new", "2").await,
        1
    );
    assert_eq!(
        publish(store.as_ref(), &account, "nothing.listens", "3").await,
        0
    );
    // Published at once, they are appended many per statement or transaction: each publisher
    // still gets its own event's id and count.
    let names = [
        "app.invoice.paid",
        "app.order.new",
        "nothing.listens",
        "app.invoice",
    ];
    let publishing: Vec<_> = (0..40)
        .map(|n| {
            let store = store.clone();
            let account = account.clone();
            tokio::spawn(async move {
                let name = names[n % names.len()];
                let event = event(&account, name, &format!("batch-{n}"));
                match store.publish_event(&event, None).await.expect("publish") {
                    gatehouse::store::Published::Created {
                        event_id,
                        deliveries,
                    } => (event_id, name, deliveries),
                    other => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    let mut published = Vec::new();
    for task in publishing {
        published.push(task.await.expect("publisher"));
    }
    for (_, name, deliveries) in &published {
        let expected = match *name {
            "app.invoice.paid" => 3,
            "app.invoice" => 2,
            "app.order.new" => 1,
            _ => 0,
        };
        assert_eq!(*deliveries, expected, "{name}");
    }
    let stored = store
        .events_after(&account.id, 0, 100)
        .await
        .expect("events");
    for (event_id, name, _) in &published {
        let event = stored
            .iter()
            .find(|event| event.id == *event_id)
            .expect("its own event");
        assert_eq!(event.name, *name);
    }
    let mut ids: Vec<i64> = published.iter().map(|(id, _, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), published.len(), "distinct ids");
}

async fn leases_never_overlap_and_expired_ones_are_taken_over(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    publish_numbered(store.as_ref(), &account, 0..50).await;
    let now = start_time() + Duration::seconds(1);
    let lease = now + Duration::seconds(60);
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b) = tokio::join!(
        claim(store.as_ref(), first, now, lease, 30, &[]),
        claim(store.as_ref(), second, now, lease, 30, &[]),
    );
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    // On PostgreSQL a claim locks the rows it scans (up to twice its limit) until it commits,
    // and a concurrent claim skips them: what the pair left is taken by the next claim.
    let rest = claim(store.as_ref(), second, now, lease, 100, &[])
        .await
        .expect("claim the rest");
    assert_eq!(
        a.len() + b.len() + rest.len(),
        50,
        "every due delivery leased once"
    );
    let mut ids: Vec<DeliveryId> = a
        .iter()
        .chain(b.iter())
        .chain(rest.iter())
        .map(|claimed| claimed.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "no delivery leased twice");
    assert!(
        claim(store.as_ref(), second, now, lease, 100, &[])
            .await
            .expect("claim")
            .is_empty(),
        "leased deliveries are not claimable"
    );

    // After the lease runs out, another worker takes them over; the first worker's late
    // outcome is then ignored.
    let later = lease + Duration::seconds(1);
    let third = Uuid::now_v7();
    let taken = claim_for_a_minute(store.as_ref(), third, later, 100)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 50);
    let (loser, stale) = a
        .first()
        .map(|delivery| (first, delivery))
        .or_else(|| {
            b.iter()
                .chain(rest.iter())
                .next()
                .map(|delivery| (second, delivery))
        })
        .expect("one");
    let recorded = store
        .record_attempts(
            loser,
            &[outcome(stale.id, stale.webhook_id, true, 1)],
            later,
        )
        .await
        .expect("record");
    assert_eq!(recorded, 0, "a worker that lost its lease records nothing");
    let recorded = store
        .record_attempts(
            third,
            &[outcome(stale.id, stale.webhook_id, true, 1)],
            later,
        )
        .await
        .expect("record");
    assert_eq!(recorded, 1);
    let delivery = store
        .delivery(&account.id, stale.id)
        .await
        .expect("read")
        .expect("delivery");
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(delivery.attempt, 1);
    assert_eq!(
        store
            .delivery_attempts(&account.id, stale.id)
            .await
            .expect("attempts")
            .len(),
        1
    );

    // In one batch, a delivery whose lease is gone (recorded just now) and one still held:
    // only the held one is recorded.
    let held = taken
        .iter()
        .find(|delivery| delivery.id != stale.id)
        .expect("another");
    let recorded = store
        .record_attempts(
            third,
            &[
                outcome(stale.id, stale.webhook_id, false, 2),
                outcome(held.id, held.webhook_id, true, 1),
            ],
            later,
        )
        .await
        .expect("record");
    assert_eq!(recorded, 1, "only the delivery whose lease is held");
    let attempts = |id| store.delivery_attempts(&account.id, id);
    assert_eq!(attempts(stale.id).await.expect("attempts").len(), 1);
    assert_eq!(attempts(held.id).await.expect("attempts").len(), 1);
}

async fn a_failed_attempt_schedules_the_retry_and_counts_the_failure(backend: Backend) {
    let (store, guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &hook).await;
    publish(store.as_ref(), &account, "app.x.y", "1").await;
    let worker = Uuid::now_v7();
    let now = start_time() + Duration::seconds(1);
    let claimed = claim_for_a_minute(store.as_ref(), worker, now, 10)
        .await
        .expect("claim");
    let record = outcome(claimed[0].id, hook.id, false, 1);
    store
        .record_attempts(worker, &[record], now)
        .await
        .expect("record");
    let delivery = store
        .delivery(&account.id, claimed[0].id)
        .await
        .expect("read")
        .expect("delivery");
    assert_eq!(delivery.status, DeliveryStatus::Pending);
    assert_eq!(
        delivery.next_attempt_at,
        Some(start_time() + Duration::seconds(5))
    );
    // The message is not stored: it is built again from the event and the first attempt's
    // envelope, as that attempt built it.
    let message: serde_json::Value =
        serde_json::from_slice(delivery.request_body.as_deref().expect("message")).expect("JSON");
    assert_eq!(message["name"], "Invoices");
    assert_eq!(message["custom_url"], "https://gatehouse.example");
    assert_eq!(message["instance_name"], "Example");
    assert_eq!(message["event"], "app.x.y");
    assert_eq!(message["object_id"], "1");
    let attempts = store
        .delivery_attempts(&account.id, claimed[0].id)
        .await
        .expect("attempts");
    assert_eq!(attempts[0].request_uri, "http://127.0.0.1:9/hook");
    assert_eq!(
        attempts[0].request_headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let stored = store
        .webhook(&account.id, hook.id)
        .await
        .expect("read")
        .expect("webhook");
    assert_eq!(stored.consecutive_failures, 1);
    assert_eq!(stored.last_delivery_id, Some(claimed[0].id));
    // Not due before its time.
    assert!(
        claim(
            store.as_ref(),
            worker,
            now + Duration::seconds(3),
            now + Duration::seconds(60),
            10,
            &[]
        )
        .await
        .expect("claim")
        .is_empty()
    );
    let notices = store
        .notifications(&account.id, &ListQuery::default())
        .await
        .expect("notices");
    assert_eq!(notices.total, 1, "the first failure is notified");
    // The store keeps what happened; the delivery layer words it when it mails or shows it.
    let NoticeContent::Facts(facts) = &notices.items[0].content else {
        panic!("a new notice keeps its facts: {:?}", notices.items[0]);
    };
    assert_eq!(facts.event, "app.x.y");
    assert_eq!(facts.attempt, 1);
    assert_eq!(facts.consecutive_failures, 1);
    assert_eq!(facts.webhook_uri, hook.uri);
    assert_eq!(
        facts.next_attempt_at,
        Some(start_time() + Duration::seconds(5))
    );
    // A notice stored before notices kept facts reads as the mail it was composed as.
    guard
        .execute(
            "UPDATE webhook_notifications SET facts = NULL, subject = 'Old subject', \
             body = 'Old body'",
        )
        .await;
    let notices = store
        .notifications(&account.id, &ListQuery::default())
        .await
        .expect("notices");
    assert_eq!(
        notices.items[0].content,
        NoticeContent::Composed {
            subject: "Old subject".to_owned(),
            body: "Old body".to_owned()
        }
    );
    // When the retry is due, its claim says what the first attempt built the message with,
    // so the retry sends those bytes again.
    let retry = claim_for_a_minute(store.as_ref(), worker, now + Duration::seconds(5), 10)
        .await
        .expect("claim");
    assert_eq!(retry[0].id, claimed[0].id);
    assert_eq!(retry[0].request_body, None);
    assert_eq!(retry[0].message_envelope, Some(envelope_facts()));
}

async fn an_ordered_webhook_releases_one_event_at_a_time(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, true);
    add_webhook(store.as_ref(), &hook).await;
    publish_numbered(store.as_ref(), &account, 0..3).await;
    let worker = Uuid::now_v7();
    let now = start_time() + Duration::seconds(1);
    let lease = now + Duration::seconds(60);
    let first = claim(store.as_ref(), worker, now, lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].object_id, "0");
    assert!(
        claim(store.as_ref(), worker, now, lease, 10, &[])
            .await
            .expect("claim")
            .is_empty()
    );
    store
        .record_attempts(worker, &[outcome(first[0].id, hook.id, true, 1)], now)
        .await
        .expect("record");
    let second = claim(store.as_ref(), worker, now, lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].object_id, "1");
}

/// Order is kept among a webhook's ordered deliveries: one switched to ordered orders what it
/// queues from then on and does not wait for what it queued before, unordered (the claim's check
/// reads an index of pending ordered deliveries alone, migration 0026).
async fn a_webhook_switched_to_ordered_orders_what_it_queues_from_then_on(backend: Backend) {
    let (store, _guard, account, _hook) =
        changed_after_publishing(backend, 0..2, |hook| hook.ordered = true).await;
    publish_numbered(store.as_ref(), &account, 2..4).await;
    let worker = Uuid::now_v7();
    let now = start_time() + Duration::seconds(2);
    let lease = now + Duration::seconds(60);
    let mut claimed: Vec<String> = claim(store.as_ref(), worker, now, lease, 10, &[])
        .await
        .expect("claim")
        .into_iter()
        .map(|delivery| delivery.object_id)
        .collect();
    claimed.sort();
    assert_eq!(claimed, ["0", "1", "2"]);
}

async fn disabling_parks_pending_deliveries_and_enabling_resumes_them(backend: Backend) {
    let (store, _guard, account, mut hook) =
        changed_after_publishing(backend, 0..3, |hook| hook.disabled = true).await;
    let pending = DeliveryFilter {
        status: Some(DeliveryStatus::Pending),
        ..DeliveryFilter::default()
    };
    let listed = store
        .deliveries(&account.id, &pending, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(listed.total, 3);
    assert!(
        listed
            .items
            .iter()
            .all(|delivery| delivery.next_attempt_at.is_none())
    );
    let later = start_time() + Duration::hours(1);
    let worker = Uuid::now_v7();
    assert!(
        claim_for_a_minute(store.as_ref(), worker, later, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    hook.disabled = false;
    change_webhook(store.as_ref(), &mut hook, later, true).await;
    let claimed = claim_for_a_minute(store.as_ref(), worker, later, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    let excluded = claim(
        store.as_ref(),
        Uuid::now_v7(),
        later + Duration::minutes(5),
        later + Duration::minutes(6),
        10,
        &[hook.id],
    )
    .await
    .expect("claim");
    assert!(
        excluded.is_empty(),
        "an excluded webhook's deliveries are skipped"
    );
}

async fn idempotency_keys_replay_conflict_and_expire(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let key = |hash: &[u8], valid_after| gatehouse::store::IdempotencyKey {
        key: "k".to_owned(),
        request_hash: hash.to_vec(),
        valid_after,
    };
    let before = start_time() - Duration::hours(24);
    let first = store
        .publish_event(&event(&account, "app.x.y", "1"), Some(&key(b"a", before)))
        .await
        .expect("publish");
    let gatehouse::store::Published::Created { event_id, .. } = first else {
        panic!("{first:?}")
    };
    let again = store
        .publish_event(&event(&account, "app.x.y", "1"), Some(&key(b"a", before)))
        .await
        .expect("publish");
    assert_eq!(
        again,
        gatehouse::store::Published::Replayed {
            event_id,
            deliveries: 0
        }
    );
    let reused = store
        .publish_event(&event(&account, "app.x.y", "2"), Some(&key(b"b", before)))
        .await
        .expect("publish");
    assert_eq!(reused, gatehouse::store::Published::KeyReused);
    let expired = store
        .publish_event(
            &event(&account, "app.x.y", "2"),
            Some(&key(b"b", start_time() + Duration::seconds(1))),
        )
        .await
        .expect("publish");
    assert!(matches!(
        expired,
        gatehouse::store::Published::Created { .. }
    ));
    assert_eq!(
        store
            .purge_idempotency_keys(start_time() + Duration::days(2))
            .await
            .expect("purge"),
        1
    );
}

/// Forty deliveries to a busy webhook, one to a quiet one, then a claim as `claim` says; returns
/// how many it leased for each.
async fn claim_busy_and_quiet(backend: Backend, per_webhook: u32, room: u32) -> (usize, usize) {
    let (store, _guard, account) = seeded(backend).await;
    let busy = webhook(&account, "app.*", true, false);
    let quiet = webhook(&account, "app.quiet.event", true, false);
    add_webhook(store.as_ref(), &busy).await;
    add_webhook(store.as_ref(), &quiet).await;
    for n in 0..40 {
        publish(store.as_ref(), &account, "app.busy.event", &n.to_string()).await;
    }
    publish(store.as_ref(), &account, "app.quiet.event", "q").await;
    let now = start_time() + Duration::seconds(1);
    let claimed = store
        .claim_due_deliveries(&Claim {
            worker: Uuid::now_v7(),
            now,
            lease_until: now + Duration::seconds(60),
            limit: 100,
            per_webhook,
            excluded: &[],
            room: &[(busy.id, room)],
        })
        .await
        .expect("claim");
    let to = |id: WebhookId| {
        claimed
            .iter()
            .filter(|delivery| delivery.webhook_id == id)
            .count()
    };
    (to(busy.id), to(quiet.id))
}

async fn a_claim_takes_at_most_per_webhook_deliveries_of_one_webhook(backend: Backend) {
    assert_eq!(
        claim_busy_and_quiet(backend, 8, 8).await,
        (8, 1),
        "8 of the busy webhook's 41, and the quiet one's only one"
    );
}

async fn a_webhooks_room_overrides_per_webhook(backend: Backend) {
    assert_eq!(
        claim_busy_and_quiet(backend, 8, 3).await,
        (3, 1),
        "the busy webhook has room for 3 (fewer than per_webhook), the quiet one takes its one"
    );
    assert_eq!(
        claim_busy_and_quiet(backend, 8, 20).await,
        (20, 1),
        "the busy webhook has room for 20 (more than per_webhook)"
    );
}

/// Events published at once are appended many per transaction: each publisher still gets its
/// own event's id and delivery count, each delivery belongs to its own event, and an event that
/// cannot be appended fails alone.
async fn events_published_at_once_each_get_their_own_answer(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    let ghost = Account {
        id: AccountId::parse("ghost").expect("slug"),
        ..account.clone()
    };
    let mut publishers = Vec::new();
    for n in 0..200 {
        let store = store.clone();
        // Every 50th event names an account that does not exist.
        let owner = if n % 50 == 49 {
            ghost.clone()
        } else {
            account.clone()
        };
        publishers.push(tokio::spawn(async move {
            let object_id = n.to_string();
            let published = store
                .publish_event(&event(&owner, "app.x.y", &object_id), None)
                .await;
            (object_id, published)
        }));
    }
    let mut event_of = std::collections::HashMap::new();
    let mut failed = 0;
    for publisher in publishers {
        let (object_id, published) = publisher.await.expect("publisher");
        match published {
            Ok(gatehouse::store::Published::Created {
                event_id,
                deliveries,
            }) => {
                assert_eq!(deliveries, 1, "event {object_id} has one listener");
                assert!(
                    event_of.insert(event_id, object_id).is_none(),
                    "ids are unique"
                );
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => failed += 1,
        }
    }
    assert_eq!(
        (event_of.len(), failed),
        (196, 4),
        "only the ghost's events fail"
    );
    let events = store
        .events_after(&account.id, 0, 1_000)
        .await
        .expect("events");
    assert_eq!(events.len(), 196);
    for appended in &events {
        assert_eq!(
            event_of.get(&appended.id),
            Some(&appended.object_id),
            "the id each publisher got is its own event's"
        );
    }
    let now = start_time() + Duration::seconds(1);
    let claimed = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), now, 1_000)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 196);
    for delivery in &claimed {
        assert_eq!(event_of.get(&delivery.event_id), Some(&delivery.object_id));
    }
}

/// A lease moves the delivery's next attempt to the lease's end (so the due index skips it),
/// giving it back makes it due at once, and parking takes it off the schedule.
async fn a_lease_is_a_visibility_timeout_and_release_gives_it_back(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    publish_numbered(store.as_ref(), &account, 0..2).await;
    let now = start_time() + Duration::seconds(1);
    let lease = now + Duration::seconds(60);
    let worker = Uuid::now_v7();
    let claimed = claim(store.as_ref(), worker, now, lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    let (kept, parked) = (claimed[0].id, claimed[1].id);
    let next_attempt = |id| {
        let store = store.clone();
        let account = account.id.clone();
        async move {
            store
                .delivery(&account, id)
                .await
                .expect("read")
                .expect("delivery")
                .next_attempt_at
        }
    };
    assert_eq!(
        next_attempt(kept).await,
        Some(lease),
        "due again when the lease runs out"
    );

    let back = now + Duration::seconds(2);
    store
        .release_deliveries(worker, &[kept], false, back)
        .await
        .expect("release");
    store
        .release_deliveries(worker, &[parked], true, back)
        .await
        .expect("park");
    assert_eq!(
        next_attempt(kept).await,
        Some(back),
        "given back: due at once"
    );
    assert_eq!(next_attempt(parked).await, None, "parked: off the schedule");
    let again = claim(store.as_ref(), Uuid::now_v7(), back, lease, 10, &[])
        .await
        .expect("claim again");
    assert_eq!(
        again.iter().map(|delivery| delivery.id).collect::<Vec<_>>(),
        vec![kept],
        "the given-back delivery is claimable at once, the parked one is not"
    );
}

/// How many pending deliveries a node of the release before migration 0027 would lease at
/// `now` (its claim's condition, word for word): it reads the wide row's `next_attempt_at` and
/// `locked_until`.
async fn claimable_by_the_previous_release(guard: &common::DatabaseGuard, now: &str) -> i64 {
    guard
        .count(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending' \
             AND next_attempt_at IS NOT NULL AND next_attempt_at <= '{now}' \
             AND (locked_until IS NULL OR locked_until < '{now}')"
        ))
        .await
}

/// During a rolling upgrade, nodes of the previous release share the database: they never
/// lease what the queue schedules (the fence, migration 0027), and what they schedule their
/// way — published, or retried — is moved into the queue once no lease of theirs holds it, so
/// it is sent exactly once, also after the last old node stops.
async fn a_node_of_the_previous_release_and_the_queue_never_share_a_delivery(backend: Backend) {
    let (store, guard, _account, _hook) = published_to_one_webhook(backend, 0..3).await;
    let far = "2999-01-01T00:00:00+00:00";
    assert_eq!(
        claimable_by_the_previous_release(&guard, far).await,
        0,
        "an old node's claim finds nothing the queue schedules"
    );
    // An old node unparks a webhook's deliveries (its statement): they stay fenced.
    guard
        .execute(
            "UPDATE webhook_deliveries SET next_attempt_at = created_at \
             WHERE status = 'pending' AND next_attempt_at IS NULL",
        )
        .await;
    assert_eq!(
        claimable_by_the_previous_release(&guard, far).await,
        0,
        "nor after an old node made them due its way"
    );

    // What an old node made: event 0 published its way (due, unleased), event 1 leased by it
    // until 2999. Neither is in the queue.
    let of = |object_id: &str| {
        format!("event_id = (SELECT id FROM events WHERE object_id = '{object_id}')")
    };
    guard
        .execute(&format!(
            "DELETE FROM webhook_delivery_queue WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE {} OR {})",
            of("0"),
            of("1")
        ))
        .await;
    guard
        .execute(&format!(
            "UPDATE webhook_deliveries SET next_attempt_at = created_at, locked_until = NULL \
             WHERE {}",
            of("0")
        ))
        .await;
    guard
        .execute(&format!(
            "UPDATE webhook_deliveries SET next_attempt_at = '{far}', locked_by = 'old node', \
             locked_until = '{far}' WHERE {}",
            of("1")
        ))
        .await;
    let now = start_time() + Duration::seconds(1);
    assert_eq!(store.queue_unqueued(now).await.expect("queue"), 1);
    assert_eq!(store.queue_unqueued(now).await.expect("queue"), 0, "once");
    let worker = Uuid::now_v7();
    let claimed = claim_for_a_minute(store.as_ref(), worker, now, 10)
        .await
        .expect("claim");
    assert_eq!(
        object_ids(&claimed),
        ["0", "2"],
        "the old node's lease is its own"
    );
    let successes: Vec<AttemptRecord> = claimed
        .iter()
        .map(|delivery| outcome(delivery.id, delivery.webhook_id, true, 1))
        .collect();
    assert_eq!(
        store
            .record_attempts(worker, &successes, now)
            .await
            .expect("record"),
        2
    );
    assert_eq!(
        claimable_by_the_previous_release(&guard, far).await,
        0,
        "nor does an old node take back what the queue took"
    );

    // The old node stopped: once its lease ran out, its delivery is queued and sent.
    let after = chrono::DateTime::parse_from_rfc3339("2999-01-01T00:00:01Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    assert_eq!(store.queue_unqueued(after).await.expect("queue"), 1);
    let taken_over = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), after, 10)
        .await
        .expect("claim");
    assert_eq!(
        object_ids(&taken_over),
        ["1"],
        "what the first claim took was recorded: {taken_over:?}"
    );
}

/// Deleting a webhook takes its pending deliveries' queue rows with them: no claim meets a row
/// whose delivery is gone.
async fn a_deleted_webhooks_deliveries_leave_the_queue(backend: Backend) {
    let (store, guard, account) = seeded(backend).await;
    let gone = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &gone).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.x.*", true, false)).await;
    publish_numbered(store.as_ref(), &account, 0..3).await;
    let queued = "SELECT COUNT(*) FROM webhook_delivery_queue";
    assert_eq!(guard.count(queued).await, 6);
    assert!(
        store
            .delete_webhook(&account.id, gone.id, &[])
            .await
            .expect("delete")
    );
    assert_eq!(guard.count(queued).await, 3);
    let claimed = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), start_time(), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    assert!(
        claimed
            .iter()
            .all(|delivery| delivery.webhook_id != gone.id)
    );
}

/// The queue's size, of all accounts and of one: due deliveries count until they are leased,
/// parked ones never; pending counts them all.
async fn the_queue_counts_what_is_due_per_account(backend: Backend) {
    let (store, _guard, account, _hook) = published_to_one_webhook(backend, 0..3).await;
    let other = Account {
        id: AccountId::parse("globex").expect("slug"),
        name: "Globex".to_owned(),
        ..account.clone()
    };
    store.insert_account(&other).await.expect("account");
    let now = start_time() + Duration::seconds(1);
    let stats = store.queue_stats(now).await.expect("stats");
    assert_eq!((stats.due, stats.pending), (3, 3));
    assert_eq!(stats.oldest_due_at, Some(start_time()));
    let ours = store
        .account_queue_stats(&account.id, now)
        .await
        .expect("stats");
    assert_eq!((ours.due, ours.pending), (3, 3));
    let theirs = store
        .account_queue_stats(&other.id, now)
        .await
        .expect("stats");
    assert_eq!(
        (theirs.due, theirs.pending, theirs.oldest_due_at),
        (0, 0, None)
    );

    let worker = Uuid::now_v7();
    for park in [true, false] {
        let claimed = claim_for_a_minute(store.as_ref(), worker, now, 1)
            .await
            .expect("claim");
        if park {
            store
                .release_deliveries(worker, &[claimed[0].id], true, now)
                .await
                .expect("park");
        }
    }
    let ours = store
        .account_queue_stats(&account.id, now)
        .await
        .expect("stats");
    assert_eq!(
        (ours.due, ours.pending),
        (1, 3),
        "one parked, one leased, one due"
    );
}

/// Disabling a webhook while one of its deliveries is in flight and enabling it again before
/// the attempt is recorded does not make that delivery due a second time: parking leaves a
/// leased delivery to its holder (the claim parks it if it comes due while the webhook is
/// inactive), and unparking touches only what parking parked.
async fn disabling_and_enabling_again_leaves_a_delivery_in_flight_to_its_holder(backend: Backend) {
    let (store, _guard, _account, mut hook) = published_to_one_webhook(backend, 0..1).await;
    let now = start_time() + Duration::seconds(1);
    let holder = Uuid::now_v7();
    let in_flight = claim_for_a_minute(store.as_ref(), holder, now, 10)
        .await
        .expect("claim");
    assert_eq!(in_flight.len(), 1);
    hook.disabled = true;
    change_webhook(store.as_ref(), &mut hook, now, true).await;
    hook.disabled = false;
    change_webhook(store.as_ref(), &mut hook, now, true).await;
    assert!(
        claim_for_a_minute(store.as_ref(), Uuid::now_v7(), now, 10)
            .await
            .expect("claim")
            .is_empty(),
        "sent once: still its holder's"
    );
    let success = outcome(in_flight[0].id, hook.id, true, 1);
    assert_eq!(
        store
            .record_attempts(holder, &[success], now)
            .await
            .expect("record"),
        1,
        "the holder's outcome is recorded"
    );
}

/// What a node of the previous release parks or unparks during a rolling upgrade reaches the
/// queue: a delivery it parked while leasing it, once a node of this release makes its webhook
/// active again; and a queued delivery this release parked, once an old node makes the webhook
/// active again (its unparking writes the wide row only).
async fn parking_by_either_release_is_undone_by_either(backend: Backend) {
    let (store, guard, _account, mut hook) =
        changed_after_publishing(backend, 0..2, |hook| hook.disabled = true).await;
    // Delivery 0: parked in the queue by this release (above). Delivery 1: parked by an old node
    // while its lease, since lapsed, held it — out of the queue.
    guard
        .execute(
            "DELETE FROM webhook_delivery_queue WHERE delivery_id IN (SELECT id FROM \
             webhook_deliveries WHERE event_id = (SELECT id FROM events WHERE object_id = '1'))",
        )
        .await;
    guard
        .execute(
            "UPDATE webhook_deliveries SET next_attempt_at = NULL, locked_by = 'old node', \
             locked_until = created_at \
             WHERE event_id = (SELECT id FROM events WHERE object_id = '1')",
        )
        .await;
    let later = start_time() + Duration::minutes(1);
    hook.disabled = false;
    change_webhook(store.as_ref(), &mut hook, later, true).await;
    assert_eq!(store.queue_unqueued(later).await.expect("queue"), 1);
    let claimed = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), later, 10)
        .await
        .expect("claim");
    assert_eq!(object_ids(&claimed), ["0", "1"]);

    // The webhook is disabled while both are in flight; their holder stopped. Once their leases
    // ran out a claim meets them undeliverable and parks them, as the worker does. Then an old
    // node makes the webhook active again (its statements).
    let much_later = later + Duration::hours(1);
    hook.disabled = true;
    change_webhook(store.as_ref(), &mut hook, much_later, true).await;
    let worker = Uuid::now_v7();
    let undeliverable = claim_for_a_minute(store.as_ref(), worker, much_later, 10)
        .await
        .expect("claim");
    assert!(
        undeliverable.len() == 2 && undeliverable.iter().all(|delivery| !delivery.deliverable),
        "{undeliverable:?}"
    );
    let ids: Vec<DeliveryId> = undeliverable.iter().map(|delivery| delivery.id).collect();
    store
        .release_deliveries(worker, &ids, true, much_later)
        .await
        .expect("park");
    assert!(
        claim_for_a_minute(store.as_ref(), worker, much_later, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    guard.execute("UPDATE webhooks SET disabled = FALSE").await;
    guard
        .execute(
            "UPDATE webhook_deliveries SET next_attempt_at = updated_at \
             WHERE status = 'pending' AND next_attempt_at IS NULL",
        )
        .await;
    assert_eq!(store.queue_unqueued(much_later).await.expect("queue"), 2);
    let resumed = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), much_later, 10)
        .await
        .expect("claim");
    assert!(
        resumed.len() == 2 && resumed.iter().all(|delivery| delivery.deliverable),
        "{resumed:?}"
    );
}

fn policy(account: &Account) -> WebhookPolicy {
    WebhookPolicy {
        id: WebhookPolicyId(Uuid::now_v7()),
        account_id: account.id.clone(),
        name: "Receiver A".to_owned(),
        jwt_alg: JwtAlgorithm::Es256,
        jwt_claim_expires_in: Some(ClaimExpiry::from_minutes(5).expect("5 minutes")),
        jwt_audience: Some("aud".to_owned()),
        jwt_format: JwtFormat::Jwt,
        source: Default::default(),
        disabled: false,
        created_at: start_time(),
        updated_at: start_time(),
    }
}

fn policy_key(
    policy: &WebhookPolicy,
    id: &str,
    active_from: chrono::DateTime<chrono::Utc>,
) -> PolicyKey {
    PolicyKey {
        id: id.to_owned(),
        policy_id: policy.id,
        jwt_alg: policy.jwt_alg,
        sealed: format!("sealed {id}").into_bytes(),
        active_from,
        created_at: active_from,
    }
}

async fn rotations_keep_keys_until_their_last_signatures_expire(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let policy = policy(&account);
    let day = Duration::days(1);
    store
        .insert_webhook_policy(&policy, &policy_key(&policy, "k1", start_time()), &[], &[])
        .await
        .expect("policy");
    // k2 takes over an hour later; k1 must stay (its messages may still be checked).
    let k2_from = start_time() + Duration::hours(1);
    store
        .insert_policy_key(
            NewPolicyKey {
                key: &policy_key(&policy, "k2", k2_from),
                retire_before: start_time() - day,
            },
            &[],
        )
        .await
        .expect("k2");
    let ids = |keys: Vec<PolicyKey>| keys.into_iter().map(|key| key.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.policy_keys(&[policy.id]).await.expect("keys")),
        ["k1", "k2"]
    );
    // Three days on, k1 was superseded more than a day ago: the next rotation retires it.
    let later = start_time() + Duration::days(3);
    store
        .insert_policy_key(
            NewPolicyKey {
                key: &policy_key(&policy, "k3", later),
                retire_before: later - day,
            },
            &[],
        )
        .await
        .expect("k3");
    let kept = store.policy_keys(&[policy.id]).await.expect("keys");
    assert_eq!(ids(kept.clone()), ["k2", "k3"]);
    assert_eq!(kept[0].sealed, b"sealed k2");
    // Another account sees no policy of this one.
    let other = Account {
        id: AccountId::parse("other").expect("slug"),
        ..account.clone()
    };
    store.insert_account(&other).await.expect("other");
    assert!(
        store
            .webhook_policy(&other.id, policy.id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .webhook_policy(&account.id, policy.id)
            .await
            .expect("read")
            .is_some()
    );
}

async fn a_secret_rotation_keeps_the_old_secret_until_the_overlap_ends(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, false);
    add_webhook(&*store, &hook).await;
    let first = store
        .webhook_secrets(hook.id, start_time())
        .await
        .expect("secrets");
    assert_eq!(first.len(), 1);
    let rotated_at = start_time() + Duration::minutes(1);
    let until = rotated_at + Duration::minutes(10);
    let mut second = secret_record(hook.id, b"sealed-2");
    second.created_at = rotated_at;
    store
        .rotate_webhook_secret(&second, until, rotated_at, &[])
        .await
        .expect("rotate");
    let during = store
        .webhook_secrets(hook.id, rotated_at)
        .await
        .expect("secrets");
    assert_eq!(during.len(), 2);
    assert_eq!(during[0].sealed, b"sealed-2", "newest first");
    assert_eq!(during[1].expires_at, Some(until));
    let after = store
        .webhook_secrets(hook.id, until)
        .await
        .expect("secrets");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].sealed, b"sealed-2");
}

async fn a_policy_is_created_with_its_links_or_not_at_all(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, false);
    add_webhook(&*store, &hook).await;
    let stranger = WebhookId(Uuid::now_v7());
    let refused = policy(&account);
    let unknown = store
        .insert_webhook_policy(
            &refused,
            &policy_key(&refused, "r1", start_time()),
            &[hook.id, stranger],
            &[],
        )
        .await
        .expect("insert");
    assert_eq!(unknown, [stranger]);
    assert!(
        store
            .webhook_policy(&account.id, refused.id)
            .await
            .expect("read")
            .is_none()
    );
    let read = store
        .webhook(&account.id, hook.id)
        .await
        .expect("read")
        .expect("webhook");
    assert_eq!(read.webhook_policy_id, None, "the link was rolled back too");

    let created = policy(&account);
    let unknown = store
        .insert_webhook_policy(
            &created,
            &policy_key(&created, "c1", start_time()),
            &[hook.id],
            &[],
        )
        .await
        .expect("insert");
    assert!(unknown.is_empty());
    let read = store
        .webhook(&account.id, hook.id)
        .await
        .expect("read")
        .expect("webhook");
    assert_eq!(read.webhook_policy_id, Some(created.id.0));
    let links = store
        .policy_links(&account.id, &[created.id])
        .await
        .expect("links");
    assert_eq!(links, [(created.id, hook.id)]);
}

/// A worker renews only the leases it still holds; after a restart on SQLite (one delivering
/// process) every lease left behind is given back at once, while on PostgreSQL (other nodes may
/// be alive) leases are left to run out.
async fn leases_are_renewed_by_their_holder_and_orphans_released_on_sqlite(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    publish_numbered(store.as_ref(), &account, 0..3).await;
    let now = start_time() + Duration::seconds(1);
    let (holder, other) = (Uuid::now_v7(), Uuid::now_v7());
    let lease = now + Duration::seconds(8);
    let held = claim(store.as_ref(), holder, now, lease, 2, &[])
        .await
        .expect("claim");
    assert_eq!(held.len(), 2);
    let ids: Vec<DeliveryId> = held.iter().map(|delivery| delivery.id).collect();
    // Another worker's renewal changes nothing; the holder's extends both leases.
    let later = now + Duration::seconds(30);
    assert_eq!(
        store.renew_leases(other, &ids, later).await.expect("renew"),
        0
    );
    assert_eq!(
        store
            .renew_leases(holder, &ids, later)
            .await
            .expect("renew"),
        2
    );
    // Past the first lease, before the renewed one ends: still held, only the third is free.
    let taken = claim_for_a_minute(store.as_ref(), other, lease + Duration::seconds(1), 10)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1, "renewed leases are still held");
    assert!(!ids.contains(&taken[0].id));

    let released = store
        .release_orphaned_leases(now + Duration::seconds(10))
        .await
        .expect("release");
    let due = claim_for_a_minute(store.as_ref(), other, now + Duration::seconds(10), 10)
        .await
        .expect("claim");
    match backend {
        Backend::Sqlite => {
            assert_eq!(released, 3, "every lease left behind");
            assert_eq!(due.len(), 3, "due again at once");
        }
        Backend::Postgres => {
            assert_eq!(released, 0);
            assert!(
                due.is_empty(),
                "another node's leases run out by themselves"
            );
        }
    }
}

/// A success ends a run of failures; on a healthy webhook it only names the last delivery.
/// One verified webhook, three events for it, and their three deliveries claimed by one worker
/// a second after they were published.
struct ThreeClaimed {
    store: std::sync::Arc<dyn Store>,
    guard: common::DatabaseGuard,
    account: Account,
    hook: Webhook,
    worker: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    claimed: Vec<gatehouse::store::ClaimedDelivery>,
}

async fn three_claimed(backend: Backend) -> ThreeClaimed {
    let (store, guard, account) = seeded(backend).await;
    let hook = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &hook).await;
    publish_numbered(store.as_ref(), &account, 0..3).await;
    let worker = Uuid::now_v7();
    let now = start_time() + Duration::seconds(1);
    let claimed = claim_for_a_minute(store.as_ref(), worker, now, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    ThreeClaimed {
        store,
        guard,
        account,
        hook,
        worker,
        now,
        claimed,
    }
}

async fn a_success_ends_the_run_of_failures_and_names_the_last_delivery(backend: Backend) {
    let ThreeClaimed {
        store,
        guard: _guard,
        account,
        hook,
        worker,
        now,
        claimed,
    } = three_claimed(backend).await;
    let health = || async {
        let stored = store
            .webhook(&account.id, hook.id)
            .await
            .expect("read")
            .expect("webhook");
        (stored.consecutive_failures, stored.last_delivery_id)
    };
    for (index, succeeded, expected) in [(0, false, 1), (1, true, 0), (2, true, 0)] {
        let record = outcome(claimed[index].id, hook.id, succeeded, 1);
        store
            .record_attempts(worker, &[record], now)
            .await
            .expect("record");
        assert_eq!(health().await, (expected, Some(claimed[index].id)));
    }
}

/// A batch of first-attempt successes (on PostgreSQL one statement, `record_first_successes`)
/// records only the deliveries whose lease the worker still holds, and counts, names and resets
/// for those alone: the console's hourly counts and latency buckets, each webhook's last
/// delivery, and the run of failures a success ends.
async fn a_batch_of_successes_counts_and_names_only_what_it_recorded(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let a = webhook(&account, "app.*", true, false);
    let b = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &a).await;
    add_webhook(store.as_ref(), &b).await;
    publish_numbered(store.as_ref(), &account, 0..4).await;
    let now = start_time() + Duration::seconds(1);
    let first = Uuid::now_v7();
    let claimed = claim_for_a_minute(store.as_ref(), first, now, 100)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 8);
    // One of b's fails: a run of one failure, retried in 5 s.
    let failed = claimed
        .iter()
        .find(|delivery| delivery.webhook_id == b.id)
        .expect("b's");
    store
        .record_attempts(first, &[outcome(failed.id, b.id, false, 1)], now)
        .await
        .expect("record the failure");
    // Another worker takes the retry and one delivery whose lease ran out.
    let later = now + Duration::seconds(61);
    let taken = claim(
        store.as_ref(),
        Uuid::now_v7(),
        later,
        later + Duration::seconds(60),
        2,
        &[],
    )
    .await
    .expect("claim");
    assert_eq!(taken.len(), 2);
    assert!(taken.iter().any(|delivery| delivery.id == failed.id));
    let lost = taken
        .iter()
        .find(|delivery| delivery.id != failed.id)
        .expect("one taken over")
        .id;

    let durations = [1_u64, 20, 40, 80, 200, 400, 20_000];
    let batch: Vec<AttemptRecord> = claimed
        .iter()
        .filter(|delivery| delivery.id != failed.id)
        .zip(durations)
        .map(|(delivery, duration)| {
            let mut record = outcome(delivery.id, delivery.webhook_id, true, 1);
            record.attempt.duration_ms = duration;
            record
        })
        .collect();
    let recorded = store
        .record_attempts(first, &batch, later)
        .await
        .expect("record");
    assert_eq!(recorded, 6, "all but the delivery taken over");

    let kept: Vec<&AttemptRecord> = batch
        .iter()
        .filter(|record| record.delivery_id != lost)
        .collect();
    let hours = store
        .hourly_attempts(&account.id, start_time() - Duration::days(1), None)
        .await
        .expect("hours");
    assert_eq!(hours.len(), 1);
    let counts = &hours[0].counts;
    assert_eq!(
        (counts.succeeded, counts.retrying, counts.failed),
        (6, 1, 0)
    );
    let mut latency = [0_u64; gatehouse::domain::LATENCY_BOUNDS_MS.len() + 1];
    latency[gatehouse::domain::latency_bucket(1)] += 1; // the failure's
    for record in &kept {
        latency[gatehouse::domain::latency_bucket(record.attempt.duration_ms)] += 1;
    }
    assert_eq!(counts.latency, latency);

    for hook in [&a, &b] {
        let stored = store
            .webhook(&account.id, hook.id)
            .await
            .expect("read")
            .expect("webhook");
        let last = kept
            .iter()
            .rev()
            .find(|record| record.webhook_id == hook.id)
            .map(|record| record.delivery_id);
        assert_eq!(
            (stored.consecutive_failures, stored.last_delivery_id),
            (0, last),
            "b's run of failures ended"
        );
    }
    let untouched = store
        .delivery(&account.id, lost)
        .await
        .expect("read")
        .expect("delivery");
    assert_eq!(untouched.status, DeliveryStatus::Pending);
}

/// Publishing leases new deliveries to the worker registered for them and hands them over as a
/// claim would read them, so that it needs no claim nor read: never those of an ordered or a
/// rate-limited webhook (a claim knows their order and the cluster's count), nor of one the
/// worker says it has no room for, not while the worker has less than half its room, and not
/// once it stopped listening.
async fn publishing_hands_new_deliveries_to_the_registered_worker(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let plain = webhook(&account, "app.*", true, false);
    add_webhook(store.as_ref(), &plain).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, true)).await;
    let mut limited = webhook(&account, "app.*", true, false);
    limited.rate_limit_per_second = Some(5);
    add_webhook(store.as_ref(), &limited).await;
    let worker = Uuid::now_v7();
    let room = std::sync::Arc::new(tokio::sync::Semaphore::new(10));
    let lease = std::time::Duration::from_secs(60);
    let full_now = std::sync::Arc::new(std::sync::Mutex::new(Vec::<WebhookId>::new()));
    let full = {
        let full_now = full_now.clone();
        std::sync::Arc::new(move || full_now.lock().unwrap().clone())
    };
    let mut handed = store
        .hand_off_to(worker, lease, room.clone(), full)
        .expect("both backends hand off");
    let payload = json!({"request": {"id": 7, "tags": ["a", "b"]}, "note": "é"});
    let first = NewEvent::new(
        &account.id,
        "app.x.y",
        "1",
        None,
        payload.clone(),
        start_time(),
    );
    let gatehouse::store::Published::Created { event_id, .. } =
        store.publish_event(&first, None).await.expect("publish")
    else {
        panic!("created")
    };
    let first_handed = handed.try_recv().expect("handed at publishing");
    assert_eq!(first_handed.deliveries.len(), 1, "the plain webhook's only");
    let given = first_handed.deliveries[0].clone();
    assert_eq!(
        (given.webhook_id, given.event_id, given.attempts_made),
        (plain.id, event_id, 0)
    );
    assert!(given.deliverable);
    assert_eq!((given.object_id.as_str(), &given.payload), ("1", &payload));
    // The lease's end (a lease from the event's time), which the worker checks before it
    // sends (`take_handed`).
    let lease_end = first_handed.held_until;
    assert_eq!(lease_end, start_time() + Duration::seconds(60));
    // Leased to the worker: another claims only the other two.
    let now = start_time() + Duration::seconds(1);
    let other = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), now, 10)
        .await
        .expect("claim");
    assert_eq!(other.len(), 2);
    assert!(other.iter().all(|delivery| delivery.id != given.id));

    // Less than half its room free: the delivery waits for a claim.
    let taken = room.clone().acquire_many_owned(6).await.expect("permits");
    assert_eq!(publish(store.as_ref(), &account, "app.x.y", "2").await, 3);
    assert!(handed.try_recv().is_err());
    drop(taken);
    // No room for the webhook itself: the same.
    full_now.lock().unwrap().push(plain.id);
    assert_eq!(publish(store.as_ref(), &account, "app.x.y", "2b").await, 3);
    assert!(handed.try_recv().is_err());
    full_now.lock().unwrap().clear();
    // A worker that stopped listening is handed nothing.
    drop(handed);
    assert_eq!(publish(store.as_ref(), &account, "app.x.y", "3").await, 3);
    let rest = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), now, 10)
        .await
        .expect("claim");
    let plain_ones = rest
        .iter()
        .filter(|delivery| delivery.webhook_id == plain.id)
        .count();
    assert_eq!(plain_ones, 3, "events 2, 2b and 3 went to the queue");
    // Once its lease ran out, a claim reads the handed delivery exactly as it was handed.
    let later = lease_end + Duration::seconds(1);
    let everything = claim_for_a_minute(store.as_ref(), Uuid::now_v7(), later, 100)
        .await
        .expect("claim");
    let claimed = everything
        .iter()
        .find(|delivery| delivery.id == given.id)
        .expect("claimed again once the lease ran out");
    assert_eq!(claimed, &given);
}

/// Deliveries are listed by id, which is minted from `created_at` (migration 0023): the order of
/// creation to the microsecond, and time bounds exact on both sides — also for a delivery whose
/// id was minted a few milliseconds after its `created_at`, as before schema 23.
async fn deliveries_list_in_creation_order_and_time_bounds_are_exact(backend: Backend) {
    let (store, guard, account) = seeded(backend).await;
    add_webhook(store.as_ref(), &webhook(&account, "app.*", true, false)).await;
    let at = |micros: i64| start_time() + Duration::microseconds(micros);
    let offsets = [0, 1, 999, 1_000, 2_000_000, 3_000_000];
    for (index, micros) in offsets.iter().enumerate() {
        let mut event = event(&account, "app.thing.done", &index.to_string());
        event.created_at = at(*micros);
        store.publish_event(&event, None).await.expect("publish");
    }
    let list = |filter: DeliveryFilter| {
        let store = store.clone();
        let account = account.id.clone();
        async move {
            let listing = store
                .deliveries(&account, &filter, &ListQuery::default())
                .await
                .expect("list");
            listing.items
        }
    };
    let all = list(DeliveryFilter::default()).await;
    assert_eq!(all.len(), offsets.len());
    // Minted for their time, whoever counts (PostgreSQL's publishing statement, a sequence).
    for delivery in &all {
        assert_eq!(delivery.id.0.get_version_num(), 7, "{}", delivery.id);
        assert_eq!(delivery.id.0.get_variant(), uuid::Variant::RFC4122);
        assert!(DeliveryId::earliest_at(delivery.created_at) <= delivery.id);
        assert!(
            delivery.id < DeliveryId::earliest_at(delivery.created_at + Duration::microseconds(1))
        );
    }
    assert!(
        all.windows(2)
            .all(|pair| pair[0].created_at < pair[1].created_at),
        "oldest first by default"
    );
    let newest_first = store
        .deliveries(
            &account.id,
            &DeliveryFilter::default(),
            &ListQuery {
                sort: vec![(SortField::CreatedAt, SortDirection::Descending)],
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(newest_first.items, reversed, "sort=-created_at");
    // The last one as a delivery of the previous schema: its id minted 5 ms after its time.
    let legacy = all.last().expect("six").id;
    let late = DeliveryId::minted_at(at(3_005_000));
    let (old, new) = match guard.sqlite_url() {
        Some(_) => (
            format!("X'{}'", legacy.0.simple()),
            format!("X'{}'", late.0.simple()),
        ),
        None => (
            format!("'{}'::uuid", legacy.0),
            format!("'{}'::uuid", late.0),
        ),
    };
    guard
        .execute(&format!(
            "UPDATE webhook_deliveries SET id = {new} WHERE id = {old}"
        ))
        .await;
    let times = |deliveries: Vec<gatehouse::domain::Delivery>| -> Vec<i64> {
        deliveries
            .iter()
            .map(|delivery| {
                (delivery.created_at - start_time())
                    .num_microseconds()
                    .unwrap()
            })
            .collect()
    };
    for (after, before, expected) in [
        (Some(1), None, &offsets[1..]),
        (Some(1_000), None, &offsets[3..]),
        (Some(3_000_000), None, &offsets[5..]),
        (None, Some(1_000), &offsets[..3]),
        (None, Some(999), &offsets[..2]),
        (None, Some(3_000_001), &offsets[..]),
        (Some(1), Some(2_000_000), &offsets[1..4]),
    ] {
        let filter = DeliveryFilter {
            created_after: after.map(at),
            created_before: before.map(at),
            ..DeliveryFilter::default()
        };
        assert_eq!(
            times(list(filter.clone()).await),
            expected,
            "after {after:?}, before {before:?}"
        );
        let page = store
            .delivery_page(&account.id, &filter, None, 10)
            .await
            .expect("page");
        let mut newest_first = expected.to_vec();
        newest_first.reverse();
        assert_eq!(
            times(page),
            newest_first,
            "after {after:?}, before {before:?}"
        );
    }
    // Keyset pages of two, newest first, cover every delivery once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .delivery_page(&account.id, &DeliveryFilter::default(), before, 2)
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(times(page));
    }
    let mut newest_first = offsets.to_vec();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
}

/// A delivery its first attempt finished keeps that attempt in its own row (migration 0024),
/// whether it succeeded or failed for good; one that needed a second attempt keeps each in an
/// attempt row. Either way every attempt reads back as it was recorded.
async fn an_attempt_that_finished_its_delivery_is_kept_in_the_delivery_row(backend: Backend) {
    let ThreeClaimed {
        store,
        guard,
        account,
        hook,
        worker,
        now,
        claimed,
    } = three_claimed(backend).await;
    let mut signed = outcome(claimed[0].id, hook.id, true, 1);
    signed.attempt.request_body = Some("eyJhbGciOiJFUzI1NiJ9.e30.c2ln".to_owned());
    signed.attempt.webhook_policy_id = Some(Uuid::now_v7());
    signed.attempt.signing_key_id = Some("key-1".to_owned());
    // Kept in the delivery's row in its shortest forms (a known name, the date derived).
    signed.attempt.response_headers = [
        ("content-length", "2"),
        ("date", "Sun, 01 Nov 2026 09:00:00 GMT"),
        ("x-receipt", "r-1"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .to_vec();
    signed.attempt.response_body = "ok".to_owned();
    let mut gave_up = outcome(claimed[1].id, hook.id, false, 1);
    gave_up.next_attempt_at = None;
    gave_up.attempt.error = Some("connection refused".to_owned());
    gave_up.attempt.response_status = None;
    let retried = outcome(claimed[2].id, hook.id, false, 1);
    store
        .record_attempts(
            worker,
            &[signed.clone(), gave_up.clone(), retried.clone()],
            now,
        )
        .await
        .expect("record");
    let attempt_rows = "SELECT COUNT(*) FROM webhook_delivery_attempts";
    assert_eq!(guard.count(attempt_rows).await, 1, "only the retried one's");
    let read = |id: DeliveryId| {
        let store = store.clone();
        let account = account.id.clone();
        async move {
            store
                .delivery_attempts(&account, id)
                .await
                .expect("attempts")
        }
    };
    assert_eq!(read(signed.delivery_id).await, vec![signed.attempt.clone()]);
    assert_eq!(
        read(gave_up.delivery_id).await,
        vec![gave_up.attempt.clone()]
    );

    let later = now + Duration::seconds(5);
    let again = claim_for_a_minute(store.as_ref(), worker, later, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    let mut second = outcome(retried.delivery_id, hook.id, true, 2);
    second.attempt.sent_at = later;
    store
        .record_attempts(worker, std::slice::from_ref(&second), later)
        .await
        .expect("record");
    assert_eq!(guard.count(attempt_rows).await, 2);
    assert_eq!(
        read(retried.delivery_id).await,
        vec![retried.attempt.clone(), second.attempt.clone()]
    );
}

both_backends!(
    disabling_and_enabling_again_leaves_a_delivery_in_flight_to_its_holder,
    parking_by_either_release_is_undone_by_either,
    the_queue_counts_what_is_due_per_account,
    a_deleted_webhooks_deliveries_leave_the_queue,
    a_node_of_the_previous_release_and_the_queue_never_share_a_delivery,
    an_attempt_that_finished_its_delivery_is_kept_in_the_delivery_row,
    deliveries_list_in_creation_order_and_time_bounds_are_exact,
    a_success_ends_the_run_of_failures_and_names_the_last_delivery,
    a_batch_of_successes_counts_and_names_only_what_it_recorded,
    leases_are_renewed_by_their_holder_and_orphans_released_on_sqlite,
    a_policy_is_created_with_its_links_or_not_at_all,
    rotations_keep_keys_until_their_last_signatures_expire,
    a_secret_rotation_keeps_the_old_secret_until_the_overlap_ends,
    a_lease_is_a_visibility_timeout_and_release_gives_it_back,
    events_published_at_once_each_get_their_own_answer,
    a_claim_takes_at_most_per_webhook_deliveries_of_one_webhook,
    a_webhooks_room_overrides_per_webhook,
    fan_out_reaches_only_active_matching_webhooks,
    publishing_hands_new_deliveries_to_the_registered_worker,
    leases_never_overlap_and_expired_ones_are_taken_over,
    a_failed_attempt_schedules_the_retry_and_counts_the_failure,
    an_ordered_webhook_releases_one_event_at_a_time,
    a_webhook_switched_to_ordered_orders_what_it_queues_from_then_on,
    disabling_parks_pending_deliveries_and_enabling_resumes_them,
    idempotency_keys_replay_conflict_and_expire,
);
