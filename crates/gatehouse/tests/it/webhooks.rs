//! Webhooks end to end on both backends, against real receivers on 127.0.0.1: verification,
//! the message and its headers, fan-out, the retry schedule on a test clock, exception notices
//! and their rate limit, auto-disable, redelivery and idempotent publishing.

use std::time::Duration;

use crate::common;
use crate::common::receiver::{Receiver, Reply};
use crate::common::{
    Backend, RequestExt, TestServer, TestServerOptions, delivering_server, eventually, json_body,
    provisioning_with,
};
use gatehouse::delivery::retry::RETRY_SCHEDULE_SECS;
use gatehouse::service::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const ADMIN_SCOPES: &[&str] = &[
    "webhooks:read",
    "webhooks:write",
    "webhook_deliveries:read",
    "webhook_deliveries:write",
    "events:write",
    "people:write",
];

pub(crate) async fn create_webhook(server: &TestServer, token: &str, body: Value) -> Value {
    let response = server
        .post("/v1/webhooks", token)
        .json(&body)
        .expect_status(StatusCode::CREATED)
        .await;
    json_body(response).await
}

/// Creates a webhook for `event` at the receiver and waits until it is verified.
pub(crate) async fn verified_webhook(
    server: &TestServer,
    token: &str,
    receiver: &Receiver,
    event: &str,
) -> Value {
    let webhook = create_webhook(
        server,
        token,
        json!({ "event": event, "uri": receiver.url }),
    )
    .await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    eventually(server, token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["verified"] == true
    })
    .await
}

/// A server that delivers, an administrator's token, a receiver, and the id of a verified
/// webhook sending every `app.*` event to it: the arrange step of most delivery tests.
async fn delivering_to_one_webhook(backend: Backend) -> (TestServer, String, Receiver, String) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = verified_webhook(&server, &token, &receiver, "app.*").await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    (server, token, receiver, id)
}

pub(crate) async fn publish(
    server: &TestServer,
    token: &str,
    event: &str,
    object_id: &str,
) -> Value {
    let response = server
        .post("/v1/events", token)
        .json(&json!({ "event": event, "object_id": object_id, "payload": { "n": object_id } }))
        .expect_status(StatusCode::ACCEPTED)
        .await;
    json_body(response).await
}

/// Moves the test clock and wakes the worker.
pub(crate) fn advance(server: &TestServer, seconds: u64) {
    server.clock.advance(chrono::Duration::seconds(
        i64::try_from(seconds).expect("seconds"),
    ));
    server.services.store.deliveries_signal().notify_one();
}

/// A server that delivers, an administrator's token, a receiver that leaves the callback of
/// its `webhook.verify` messages to the test, and a webhook for `app.*` at it, just created.
async fn awaiting_verification(backend: Backend) -> (TestServer, String, Receiver, Value) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    receiver.complete_verifications(false);
    let webhook = create_webhook(
        &server,
        &token,
        json!({ "event": "app.*", "uri": receiver.url }),
    )
    .await;
    (server, token, receiver, webhook)
}

async fn verification_activates_the_webhook_and_messages_follow(backend: Backend) {
    let (server, token, receiver, webhook) = awaiting_verification(backend).await;
    assert_eq!(webhook["state"], "unverified");
    let id = webhook["id"].as_str().expect("id").to_owned();

    // The verification message goes out at once, while unverified.
    let verify = receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let message = verify[0].json();
    assert_eq!(message["event"], "webhook.verify");
    assert_eq!(message["webhook_id"], id.as_str());
    let callback = message["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    assert!(callback.starts_with(&format!(
        "{}/v1/webhook_verifications/ghv_",
        server.base_url
    )));

    // Until the callback is called, events are not delivered.
    assert_eq!(
        publish(&server, &token, "app.invoice.paid", "inv_1").await["deliveries"],
        0
    );

    server
        .client
        .get(&callback)
        .expect_status(StatusCode::OK)
        .await;
    // The secret works once.
    server
        .client
        .get(&callback)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    let shown = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["verified"], true);
    assert_eq!(shown["state"], "active");

    assert_eq!(
        publish(&server, &token, "app.invoice.paid", "inv_2").await["deliveries"],
        1
    );
    let messages = receiver.wait_for_messages(1).await;
    assert_eq!(messages.len(), 1);
    let body = messages[0].json();
    assert_eq!(
        body["object_id"], "inv_2",
        "the event published before verification was not sent"
    );
    assert_eq!(body["event"], "app.invoice.paid");
    assert_eq!(body["payload"], json!({ "n": "inv_2" }));
    assert_eq!(body["account_id"], "acme");
    assert_eq!(body["webhook_id"], id.as_str());
    assert_eq!(body["person_name"], "admin");
    assert_eq!(messages[0].header("x-gatehouse-attempt"), Some("1"));
    assert_eq!(messages[0].header("content-type"), Some("application/json"));
    assert!(messages[0].header("x-gatehouse-delivery").is_some());

    // The stored delivery shows the callback without its secret, once its attempt is recorded
    // (the receiver had the message before the worker had the answer).
    let deliveries = common::eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries?webhook_id={id}&event=webhook.verify"),
        |deliveries| deliveries[0]["status"] == "succeeded",
    )
    .await;
    let shown_callback = deliveries[0]["payload"]["payload"]["callback"]
        .as_str()
        .unwrap_or_else(|| panic!("a callback in {deliveries:#}"));
    assert!(shown_callback.ends_with("/[redacted]"), "{shown_callback}");
    assert!(!deliveries.to_string().contains("ghv_"));
}

async fn changing_the_uri_needs_a_new_verification(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = verified_webhook(&server, &token, &receiver, "app.*").await;
    let id = webhook["id"].as_str().expect("id");
    let second = Receiver::start().await;
    second.complete_verifications(false);
    let changed = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "uri": second.url }))
        .json_answer()
        .await;
    assert_eq!(changed["verified"], false);
    second
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    assert_eq!(
        publish(&server, &token, "app.x.y", "1").await["deliveries"],
        0
    );

    // Sending the verification again replaces the secret.
    server
        .post(&format!("/v1/webhooks/{id}/verification"), &token)
        .expect_status(StatusCode::ACCEPTED)
        .await;
    let verifications = second
        .wait_for(2, |request| request.event() == "webhook.verify")
        .await;
    let old = verifications[0].json()["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    let new = verifications[1].json()["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    assert_ne!(old, new);
    assert_eq!(
        server.client.get(&old).send().await.expect("old").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.client.get(&new).send().await.expect("new").status(),
        StatusCode::OK
    );
    server
        .post(&format!("/v1/webhooks/{id}/verification"), &token)
        .expect_status(StatusCode::CONFLICT)
        .await;
}

/// The callback of a `webhook.verify` message, and its expiry as the message states it.
fn callback_of(message: &crate::common::receiver::Received) -> (String, Value) {
    let body = message.json();
    let callback = body["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    (callback, body["payload"]["expires_at"].clone())
}

async fn a_verification_callback_expires_after_24_hours(backend: Backend) {
    let (server, token, receiver, webhook) = awaiting_verification(backend).await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    let sent_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(webhook["verification_sent_at"].clone()).expect("sent at");
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(webhook["verification_expires_at"].clone()).expect("expires at");
    assert_eq!(expires_at - sent_at, chrono::Duration::hours(24));
    let verify = receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let (callback, stated_expiry) = callback_of(&verify[0]);
    assert_eq!(
        serde_json::from_value::<chrono::DateTime<chrono::Utc>>(stated_expiry).expect("stated"),
        expires_at,
        "the message says until when its callback works"
    );
    // The clock moves past the attempt's lease only once the attempt is recorded; otherwise the
    // message would (rightly, at least once) be sent again.
    eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries?webhook_id={id}&event=webhook.verify"),
        |list| list[0]["status"] == "succeeded",
    )
    .await;

    // A day later the callback says it expired, and changes nothing.
    advance(&server, 24 * 3600);
    let response = server
        .client
        .get(&callback)
        .expect_status(StatusCode::GONE)
        .await;
    let error = json_body(response).await;
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("expired"), "{message}");
    assert!(message.contains("send the verification again"), "{message}");
    assert!(
        !error.to_string().contains("ghv_"),
        "no secret in the error"
    );
    let shown = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["state"], "unverified");

    // Sending it again makes a new callback, good for another 24 hours, which POST calls too.
    server
        .post(&format!("/v1/webhooks/{id}/verification"), &token)
        .expect_status(StatusCode::ACCEPTED)
        .await;
    let verifications = receiver
        .wait_for(2, |request| request.event() == "webhook.verify")
        .await;
    let (fresh, _) = callback_of(&verifications[1]);
    advance(&server, 23 * 3600);
    server
        .client
        .post(&fresh)
        .expect_status(StatusCode::OK)
        .await;
    server
        .client
        .get(&callback)
        .expect_status_for(StatusCode::NOT_FOUND, "the expired callback was replaced")
        .await;
    let shown = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["verified"], true);
    assert_eq!(shown["verification_expires_at"], Value::Null);
}

/// The purge forgets a verification callback a week after its 24 hours; until then the
/// callback says it expired, afterwards it is unknown.
async fn the_purge_forgets_expired_verification_callbacks(backend: Backend) {
    use gatehouse::service::{Pacing, PurgeScope};
    let (server, token, receiver, webhook) = awaiting_verification(backend).await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    let verify = receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let (callback, _) = callback_of(&verify[0]);
    eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries?webhook_id={id}&event=webhook.verify"),
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let purge = async || {
        server
            .services
            .purge(&PurgeScope::default(), Pacing::AT_ONCE)
            .await
            .expect("purge")
            .verification_secrets
    };
    advance(&server, 7 * 24 * 3600);
    assert_eq!(purge().await, 0, "24 hours and a week are not over");
    server
        .client
        .get(&callback)
        .expect_status(StatusCode::GONE)
        .await;
    advance(&server, 24 * 3600 + 1);
    assert_eq!(purge().await, 1);
    server
        .client
        .get(&callback)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
}

async fn an_unverified_webhook_gets_a_fresh_callback_on_any_change(backend: Backend) {
    let (server, token, receiver, webhook) = awaiting_verification(backend).await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let changed = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "description": "Invoices for the ledger" }))
        .json_answer()
        .await;
    assert_eq!(changed["verified"], false);
    let verifications = receiver
        .wait_for(2, |request| request.event() == "webhook.verify")
        .await;
    let (first, _) = callback_of(&verifications[0]);
    let (second, _) = callback_of(&verifications[1]);
    assert_ne!(first, second);
    server
        .client
        .get(&first)
        .expect_status_for(StatusCode::NOT_FOUND, "replaced by the update's callback")
        .await;
    // A change that changes nothing is no update, and sends nothing.
    server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "description": "Invoices for the ledger" }))
        .expect_status(StatusCode::OK)
        .await;
    server
        .client
        .post(&second)
        .expect_status(StatusCode::OK)
        .await;
    let verify_messages = receiver
        .received()
        .into_iter()
        .filter(|request| request.event() == "webhook.verify")
        .count();
    assert_eq!(verify_messages, 2);

    // Once verified, changing what it does (not where it sends) needs no new callback.
    server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "description": "Ledger" }))
        .expect_status(StatusCode::OK)
        .await;
    let shown = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["verified"], true);
}

async fn a_uri_the_account_verified_needs_no_new_verification(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    verified_webhook(&server, &token, &receiver, "app.invoice.*").await;
    receiver.complete_verifications(false);

    // A second webhook at the same URI is active at once, and no message asks again.
    let second = create_webhook(
        &server,
        &token,
        json!({ "event": "app.order.*", "uri": receiver.url }),
    )
    .await;
    assert_eq!(second["verified"], true);
    assert_eq!(second["state"], "active");
    assert_eq!(second["verification_sent_at"], Value::Null);

    // Nor does one moved to it from elsewhere.
    let elsewhere = Receiver::start().await;
    elsewhere.complete_verifications(false);
    let moved = create_webhook(
        &server,
        &token,
        json!({ "event": "app.refund.*", "uri": elsewhere.url }),
    )
    .await;
    assert_eq!(moved["verified"], false);
    let moved_id = moved["id"].as_str().expect("id");
    let moved = server
        .patch(&format!("/v1/webhooks/{moved_id}"), &token)
        .json(&json!({ "uri": receiver.url }))
        .json_answer()
        .await;
    assert_eq!(moved["verified"], true);

    assert_eq!(
        publish(&server, &token, "app.order.placed", "o_1").await["deliveries"],
        1
    );
    assert_eq!(
        publish(&server, &token, "app.refund.paid", "r_1").await["deliveries"],
        1
    );
    receiver
        .wait_for(2, |request| request.event().starts_with("app."))
        .await;
    // Only the first webhook was asked to verify this URI. (The moved webhook's message for its
    // old URI may still go out after the move, to where the webhook now points: a delivery is
    // sent to the webhook's URI at the time; it names the old URI.)
    let asked: Vec<serde_json::Value> = receiver
        .received()
        .into_iter()
        .filter(|request| request.event() == "webhook.verify")
        .map(|request| request.json())
        .filter(|message| message["payload"]["uri"] == receiver.url.as_str())
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "only the first webhook was asked: {asked:?}"
    );
    assert!(
        asked
            .iter()
            .all(|message| message["webhook_id"] != second["id"]),
        "{asked:?}"
    );

    // Another account's verification counts for nothing here.
    let other_token = server.globex_admin_token(ADMIN_SCOPES).await;
    let theirs = create_webhook(
        &server,
        &other_token,
        json!({ "event": "app.*", "uri": receiver.url }),
    )
    .await;
    assert_eq!(theirs["verified"], false);
}

/// Xurrent's recommended flow: create the webhook disabled, send a test, enable it.
async fn a_test_send_reaches_a_disabled_webhook_alone_in_test_mode(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = create_webhook(
        &server,
        &token,
        json!({ "event": "request.status-changed", "uri": receiver.url, "disabled": true }),
    )
    .await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    let test_path = format!("/v1/webhooks/{id}/test");
    // Its URI is verified first (the verification message goes to a disabled webhook too).
    eventually(&server, &token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["verified"] == true
    })
    .await;
    // Another webhook listening to the same event hears nothing of the test.
    let other = Receiver::start().await;
    verified_webhook(&server, &token, &other, "request.*").await;

    server
        .post(&test_path, &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    let sent = receiver
        .wait_for(1, |request| request.event() == "request.status-changed")
        .await;
    let message = sent[0].json();
    assert_eq!(message["event"], "request.status-changed");
    assert_eq!(message["object_id"], "12345");
    assert_eq!(message["webhook_id"], id.as_str());
    assert_eq!(message["account_id"], "acme");
    assert_eq!(message["person_name"], "admin");
    assert!(message["webhook_nodeID"].is_string() && message["instance_name"].is_string());
    assert!(
        sent[0].header("webhook-signature").is_some(),
        "signed like any other"
    );

    let tests = eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?test_mode=true",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    assert_eq!(tests.as_array().map(Vec::len), Some(1));
    assert_eq!(tests[0]["test_mode"], true);
    assert_eq!(tests[0]["webhook_id"], id.as_str());
    let real = server
        .get("/v1/webhook_deliveries?test_mode=false", &token)
        .json_answer()
        .await;
    assert!(
        real.as_array()
            .expect("array")
            .iter()
            .all(|delivery| delivery["test_mode"] == false && delivery["event"] == "webhook.verify"),
        "{real}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        other
            .received()
            .iter()
            .all(|request| request.event() == "webhook.verify"),
        "the test went to its webhook alone"
    );
    // Still disabled: a real event is not queued for it.
    assert_eq!(
        server
            .get(&format!("/v1/webhooks/{id}"), &token)
            .json_answer()
            .await["disabled"],
        true
    );

    // A wildcard webhook is tested with its namespace's first event; an unverified one not at all.
    let wildcard = verified_webhook(&server, &token, &receiver, "scim_user.*").await;
    server
        .post(
            &format!("/v1/webhooks/{}/test", wildcard["id"].as_str().expect("id")),
            &token,
        )
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    receiver
        .wait_for(1, |request| request.event() == "scim_user.create")
        .await;
    let elsewhere = Receiver::start().await;
    elsewhere.complete_verifications(false);
    let unverified = create_webhook(
        &server,
        &token,
        json!({ "event": "app.*", "uri": elsewhere.url }),
    )
    .await;
    let refused = server
        .post(
            &format!(
                "/v1/webhooks/{}/test",
                unverified["id"].as_str().expect("id")
            ),
            &token,
        )
        .expect_status(StatusCode::CONFLICT)
        .await;
    assert!(
        json_body(refused).await["message"]
            .as_str()
            .is_some_and(|message| message.contains("not verified"))
    );
    server
        .get("/v1/webhook_deliveries?test_mode=maybe", &token)
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
}

/// Xurrent documents `https://user:password@host/…` for receivers that need basic
/// authentication: the password is sealed, sent as `Authorization: Basic`, and shown nowhere.
async fn basic_authentication_in_the_uri_is_sent_and_never_shown(backend: Backend) {
    use base64::Engine;
    let basic = |credentials: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    };
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let given = receiver
        .url
        .replacen("http://", "http://alice:s3cr%40t@", 1);
    let shown = receiver.url.replacen("http://", "http://alice:***@", 1);
    let webhook = create_webhook(&server, &token, json!({ "event": "app.*", "uri": given })).await;
    assert_eq!(webhook["uri"], shown.as_str());
    assert!(!webhook.to_string().contains("s3cr"), "{webhook}");
    let id = webhook["id"].as_str().expect("id").to_owned();
    eventually(&server, &token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["verified"] == true
    })
    .await;
    publish(&server, &token, "app.invoice.paid", "inv_1").await;
    let messages = receiver.wait_for_messages(1).await;
    assert_eq!(
        messages[0].header("authorization"),
        Some(basic("alice:s3cr@t").as_str())
    );
    let verification = &receiver.received()[0];
    assert_eq!(verification.event(), "webhook.verify");
    assert_eq!(
        verification.header("authorization"),
        Some(basic("alice:s3cr@t").as_str()),
        "the verification message authenticates too"
    );

    // Every view shows the URI masked, and none holds the password.
    let delivery = messages[0]
        .header("x-gatehouse-delivery")
        .expect("delivery id")
        .to_owned();
    eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries/{delivery}"),
        |delivery| delivery["status"] == "succeeded",
    )
    .await;
    for path in [
        format!("/v1/webhooks/{id}"),
        "/v1/webhooks".to_owned(),
        format!("/v1/webhook_deliveries?webhook_id={id}"),
        format!("/v1/webhook_deliveries/{delivery}"),
    ] {
        let text = server.get(&path, &token).json_answer().await.to_string();
        assert!(!text.contains("s3cr"), "{path}: {text}");
        assert!(text.contains("alice:***@"), "{path}: {text}");
    }
    let stored = server
        .services
        .store
        .webhook(
            &server.find_account("acme").await.id,
            gatehouse::domain::WebhookId(id.parse().expect("uuid")),
        )
        .await
        .expect("read")
        .expect("webhook");
    let sealed = stored.uri_password.expect("a sealed password");
    assert!(
        !sealed.windows(6).any(|window| window == b"s3cr@t"),
        "sealed at rest"
    );

    // The URI as shown keeps the password; a new one replaces it, without a new verification.
    let kept = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "uri": shown, "description": "Ledger" }))
        .json_answer()
        .await;
    assert_eq!(kept["verified"], true);
    publish(&server, &token, "app.invoice.paid", "inv_2").await;
    let messages = receiver.wait_for_messages(2).await;
    assert_eq!(
        messages[1].header("authorization"),
        Some(basic("alice:s3cr@t").as_str())
    );
    let renewed = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "uri": receiver.url.replacen("http://", "http://alice:n3w@", 1) }))
        .json_answer()
        .await;
    assert_eq!(renewed["uri"], shown.as_str());
    assert_eq!(
        renewed["verified"], true,
        "the same endpoint: no new verification"
    );
    publish(&server, &token, "app.invoice.paid", "inv_3").await;
    let messages = receiver.wait_for_messages(3).await;
    assert_eq!(
        messages[2].header("authorization"),
        Some(basic("alice:n3w").as_str())
    );

    // `***` stands for a stored password only.
    let other = Receiver::start().await;
    let refused = server
        .post("/v1/webhooks", &token)
        .json(&json!({ "event": "app.*", "uri": other.url.replacen("http://", "http://bob:***@", 1) }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    assert!(
        json_body(refused).await["message"]
            .as_str()
            .is_some_and(|message| message.contains("give the password itself"))
    );
}

async fn events_fan_out_to_every_matching_active_webhook(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    verified_webhook(&server, &token, &receiver, "app.invoice.paid").await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    verified_webhook(&server, &token, &receiver, "app.order.shipped").await;
    let disabled = verified_webhook(&server, &token, &receiver, "app.*").await;
    let disabled_id = disabled["id"].as_str().expect("id");
    server
        .patch(&format!("/v1/webhooks/{disabled_id}"), &token)
        .json(&json!({ "disabled": true }))
        .expect_status(StatusCode::OK)
        .await;

    let published = publish(&server, &token, "app.invoice.paid", "inv_9").await;
    assert_eq!(published["deliveries"], 2);
    let messages = receiver.wait_for_messages(2).await;
    let mut webhooks: Vec<String> = messages
        .iter()
        .map(|request| {
            request.json()["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    webhooks.sort();
    assert_eq!(webhooks, ["app.*", "app.invoice.paid"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.messages().len(),
        2,
        "nothing went to the disabled webhook"
    );
}

async fn failed_attempts_follow_the_retry_schedule_and_notices_are_rate_limited(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = verified_webhook(&server, &token, &receiver, "app.*").await;
    let id = webhook["id"].as_str().expect("id");
    receiver.answer_by_default(Reply::Status(503));
    publish(&server, &token, "app.invoice.paid", "inv_1").await;
    receiver.wait_for_messages(1).await;
    let deliveries_path = format!("/v1/webhook_deliveries?webhook_id={id}&event=app.invoice.paid");
    let mut expected_at = server.clock.now();
    for attempt in 1..=10_u32 {
        let deliveries = eventually(&server, &token, &deliveries_path, |list| {
            list[0]["attempt"] == attempt
        })
        .await;
        let delivery = &deliveries[0];
        assert_eq!(delivery["response_status"], 503);
        if attempt == 10 {
            assert_eq!(delivery["status"], "failed");
            assert!(delivery["next_attempt_at"].is_null());
            break;
        }
        assert_eq!(delivery["status"], "pending");
        let wait = RETRY_SCHEDULE_SECS[attempt as usize];
        expected_at += chrono::Duration::seconds(i64::try_from(wait).expect("wait"));
        let next: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(delivery["next_attempt_at"].clone()).expect("next_attempt_at");
        assert_eq!(
            next,
            expected_at,
            "attempt {} is due {wait} s after attempt {attempt}",
            attempt + 1
        );
        // A second early, nothing is sent.
        advance(&server, wait - 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.messages().len(), attempt as usize);
        advance(&server, 1);
        receiver.wait_for_messages(attempt as usize + 1).await;
    }
    let attempts = receiver.messages();
    assert_eq!(attempts.len(), 10);
    let bodies: Vec<&Vec<u8>> = attempts.iter().map(|request| &request.body).collect();
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "every attempt sends the same bytes"
    );
    let numbers: Vec<&str> = attempts
        .iter()
        .map(|request| request.header("x-gatehouse-attempt").unwrap_or_default())
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);

    // Attempts at 0 s, 5 s, 305 s, 2,105 s (> 20 min) and later: one notice per 20 minutes
    // means notices after attempts 1, 4, 5, 6, 7, 8, 9 and 10.
    let notices = server
        .get("/v1/webhook_notifications?per_page=100", &token)
        .json_answer()
        .await;
    let notices = notices.as_array().expect("array");
    assert_eq!(notices.len(), 8, "{notices:?}");
    assert!(notices.iter().all(|notice| notice["kind"] == "exception"));
    assert_eq!(notices[0]["recipients"], json!(["admin@example.org"]));
    assert!(
        notices[0]["body"]
            .as_str()
            .expect("body")
            .contains("HTTP 503")
    );
    let exception_events = server.event_names("acme", "webhook.exception").await;
    assert_eq!(exception_events.len(), 8);

    // The delivery view has every attempt.
    let list = server.get(&deliveries_path, &token).json_answer().await;
    let delivery_id = list[0]["id"].as_str().expect("id");
    let detail = server
        .get(&format!("/v1/webhook_deliveries/{delivery_id}"), &token)
        .json_answer()
        .await;
    assert_eq!(detail["attempts"].as_array().expect("attempts").len(), 10);
    assert_eq!(detail["response_body"], "ok");
    assert_eq!(detail["request_uri"], receiver.url.as_str());
}

async fn twenty_consecutive_failures_disable_the_webhook(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = verified_webhook(&server, &token, &receiver, "app.*").await;
    let id = webhook["id"].as_str().expect("id");
    server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "mail_exceptions_to": "ops@example.org, oncall@example.org" }))
        .expect_status(StatusCode::OK)
        .await;
    receiver.answer_by_default(Reply::Status(500));
    for n in 0..20 {
        publish(&server, &token, "app.tick.tock", &n.to_string()).await;
    }
    let disabled = eventually(&server, &token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["disabled"] == true
    })
    .await;
    assert_eq!(disabled["disabled_reason"], "failures");
    assert_eq!(disabled["consecutive_failures"], 20);
    // The predefined filters see it (with the count in X-Pagination-Total-Entries).
    for (path, expected) in [("/v1/webhooks/disabled", 1), ("/v1/webhooks/enabled", 0)] {
        let response = server.get(path, &token).send().await.expect("GET");
        assert_eq!(
            response.headers()["x-pagination-total-entries"],
            expected.to_string().as_str(),
            "{path}"
        );
        let listed = json_body(response).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(expected), "{path}");
    }
    let notices = server
        .get("/v1/webhook_notifications", &token)
        .json_answer()
        .await;
    let mut kinds: Vec<&str> = notices
        .as_array()
        .expect("array")
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["disabled", "exception"],
        "one exception notice (rate limit) and the disabled notice"
    );
    assert_eq!(
        notices[0]["recipients"],
        json!(["ops@example.org", "oncall@example.org"])
    );
    assert_eq!(
        server.event_names("acme", "webhook.disabled").await.len(),
        1
    );

    // Disabled: retries wait, parked, and nothing more is sent.
    let pending = server
        .get(
            &format!("/v1/webhook_deliveries?webhook_id={id}&status=pending&per_page=100"),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(pending.as_array().expect("array").len(), 20);
    assert!(
        pending
            .as_array()
            .expect("array")
            .iter()
            .all(|d| d["next_attempt_at"].is_null())
    );
    advance(&server, 3600);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.messages().len(), 20);

    // Re-enabling resumes them and restarts the count.
    receiver.answer_by_default(Reply::Status(200));
    let enabled = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "disabled": false }))
        .json_answer()
        .await;
    assert_eq!(enabled["consecutive_failures"], 0);
    receiver.wait_for_messages(40).await;
    eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries?webhook_id={id}&status=succeeded&event=app.tick.tock&per_page=100"),
        |list| list.as_array().is_some_and(|list| list.len() == 20),
    )
    .await;
}

async fn redelivery_sends_the_same_bytes_as_a_linked_delivery(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    publish(&server, &token, "app.invoice.paid", "inv_1").await;
    receiver.wait_for_messages(1).await;
    let list = eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{id}/deliveries?event=app.invoice.paid"),
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let original = list[0]["id"].as_str().expect("id").to_owned();
    let redelivered = server
        .post(
            &format!("/v1/webhook_deliveries/{original}/redeliver"),
            &token,
        )
        .expect_status(StatusCode::ACCEPTED)
        .await;
    let redelivery = json_body(redelivered).await;
    assert_eq!(redelivery["redelivery_of_id"], original.as_str());
    let messages = receiver.wait_for_messages(2).await;
    assert_eq!(messages[0].body, messages[1].body);
    assert_ne!(
        messages[0].header("x-gatehouse-delivery"),
        messages[1].header("x-gatehouse-delivery")
    );
    let shown = server
        .get(&format!("/v1/webhook_deliveries/{original}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["redelivered_by_id"], redelivery["id"]);
    server
        .post(
            &format!("/v1/webhook_deliveries/{original}/redeliver"),
            &token,
        )
        .expect_status(StatusCode::CONFLICT)
        .await;
}

/// A delivery's message and headers are not stored as sent but built again (the event is kept
/// once, the attempt's envelope once for all that share it): what the views show must still be
/// exactly what the receiver got, and stay so when the webhook is renamed or moved afterwards.
async fn a_delivery_shows_what_was_sent_after_its_webhook_changes(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    let original_name = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await["name"]
        .clone();
    publish(&server, &token, "app.invoice.paid", "inv_1").await;
    let sent = receiver.wait_for_messages(1).await[0].clone();
    let list = eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{id}/deliveries?event=app.invoice.paid"),
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let delivery_id = list[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        list[0]["payload"],
        sent.json(),
        "the list shows the message sent"
    );
    let moved = Receiver::start().await;
    moved.complete_verifications(true);
    server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "name": "Renamed", "uri": moved.url }))
        .expect_status(StatusCode::OK)
        .await;
    let shown = server
        .get(&format!("/v1/webhook_deliveries/{delivery_id}"), &token)
        .json_answer()
        .await;
    assert_eq!(shown["payload"], sent.json());
    assert_eq!(shown["payload"]["name"], original_name);
    assert_eq!(
        shown["request_uri"],
        receiver.url.as_str(),
        "the URI it went to"
    );
    let headers = shown["attempts"][0]["request_headers"]
        .as_array()
        .expect("headers");
    assert!(headers.len() >= 5, "{headers:?}");
    for pair in headers {
        let (name, value) = (
            pair[0].as_str().expect("name"),
            pair[1].as_str().expect("value"),
        );
        assert_eq!(sent.header(name), Some(value), "header {name}");
    }
    assert!(headers.iter().any(|pair| pair[0] == "webhook-signature"));
    // A redelivery after the rename sends the first message's bytes again.
    server
        .post(
            &format!("/v1/webhook_deliveries/{delivery_id}/redeliver"),
            &token,
        )
        .expect_status(StatusCode::ACCEPTED)
        .await;
    let again = moved
        .wait_for(1, |request| request.event() == "app.invoice.paid")
        .await;
    assert_eq!(again[0].body, sent.body);
}

async fn redeliver_failed_since_repeats_only_failed_deliveries(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    let since = server.clock.now();
    publish(&server, &token, "app.ok.one", "1").await;
    receiver.wait_for_messages(1).await;
    receiver.answer_by_default(Reply::Status(400));
    publish(&server, &token, "app.bad.one", "2").await;
    // Every attempt fails: walk the clock through the whole schedule.
    for attempt in 1..10_usize {
        receiver.wait_for_messages(1 + attempt).await;
        let path = format!("/v1/webhooks/{id}/deliveries?event=app.bad.one");
        eventually(&server, &token, &path, |list| list[0]["attempt"] == attempt).await;
        advance(&server, 86_400);
    }
    let path = format!("/v1/webhooks/{id}/deliveries?event=app.bad.one");
    let failed = eventually(&server, &token, &path, |list| list[0]["status"] == "failed").await;
    assert_eq!(failed[0]["attempt"], 10);

    receiver.answer_by_default(Reply::Status(200));
    let redone = server
        .post(&format!("/v1/webhooks/{id}/redeliver_failed"), &token)
        .json(&json!({ "since": since }))
        .json_answer()
        .await;
    assert_eq!(
        redone["redelivered"], 1,
        "only the failed delivery is sent again"
    );
    let messages = receiver.wait_for_messages(12).await;
    assert_eq!(messages[11].json()["object_id"], "2");
    let list = eventually(&server, &token, &path, |list| {
        list.as_array()
            .is_some_and(|list| list.len() == 2 && list[1]["status"] == "succeeded")
    })
    .await;
    assert_eq!(list[1]["redelivery_of_id"], list[0]["id"]);
    let again = server
        .post(&format!("/v1/webhooks/{id}/redeliver_failed"), &token)
        .json(&json!({ "since": since }))
        .json_answer()
        .await;
    assert_eq!(
        again["redelivered"], 0,
        "a redelivered delivery is not repeated twice"
    );
}

async fn idempotency_key_replays_within_24_hours(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    let send = |body: Value, key: &str| {
        server
            .post("/v1/events", &token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let body = json!({ "event": "app.invoice.paid", "object_id": "inv_7", "payload": { "a": 1 } });
    let first = send(body.clone(), "key-1").await.expect("POST");
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json_body(first).await;
    let second = send(body.clone(), "key-1").await.expect("POST");
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second = json_body(second).await;
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["deliveries"], 1);
    let other = send(
        json!({ "event": "app.invoice.paid", "object_id": "inv_8" }),
        "key-1",
    )
    .await
    .expect("POST");
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    receiver.wait_for_messages(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.messages().len(), 1, "published once");

    // After 24 hours the key is free again.
    advance(&server, 24 * 3600 + 1);
    let later = json_body(send(body, "key-1").await.expect("POST")).await;
    assert_ne!(later["id"], first["id"]);
    assert_eq!(later["replayed"], false);
}

/// POSTs each body to `path` and asserts that it is refused as unprocessable (422) with an
/// error that mentions the text beside it.
async fn assert_each_refused(
    server: &TestServer,
    token: &str,
    path: &str,
    cases: impl IntoIterator<Item = (Value, &str)>,
) {
    for (body, expected) in cases {
        let response = server
            .post(path, token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error = json_body(response).await;
        assert!(error.to_string().contains(expected), "{error}");
    }
}

async fn publishing_checks_names_payloads_and_scopes(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let refused = [
        (json!({ "event": "person.create" }), "namespace Gatehouse"),
        (json!({ "event": "person" }), "namespace Gatehouse"),
        (json!({ "event": "Bad Name" }), "lower-case"),
        (json!({ "event": "request.-changed" }), "inner hyphens"),
        (
            json!({ "event": "app.x", "payload": [1] }),
            "payload must be a JSON object",
        ),
    ];
    assert_each_refused(&server, &token, "/v1/events", refused).await;
    let acme = server.find_account("acme").await;
    let specialist = server
        .person(&acme, "spec@example.org", &["specialist"])
        .await;
    let weak = server.token(&acme, &specialist, &["people:read"]).await;
    server
        .post("/v1/events", &weak)
        .json(&json!({ "event": "app.x" }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    server
        .get("/v1/webhooks", &weak)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let catalog = server.get("/v1/events/catalog", &weak).json_answer().await;
    assert!(
        catalog
            .as_array()
            .expect("array")
            .iter()
            .any(|event| event["name"] == "scim_user.create")
    );

    // Xurrent's event names are custom events a webhook listens to and receives.
    for (event, object_id) in [
        ("request.status-changed", "r1"),
        ("app_instance.secrets-update", "a1"),
        ("automation_rule", "ar1"),
    ] {
        verified_webhook(&server, &token, &receiver, event).await;
        assert_eq!(
            publish(&server, &token, event, object_id).await["deliveries"],
            1
        );
        let received = receiver
            .wait_for(1, |request| request.event() == event)
            .await;
        assert_eq!(received[0].json()["object_id"], object_id);
    }
}

async fn webhooks_refuse_bad_fields(backend: Backend) {
    let (server, token, _receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let refused = [
        (
            json!({ "event": "webhook.verify", "uri": "https://example.org/h" }),
            "can't be subscribed",
        ),
        (
            json!({ "event": "app.*", "uri": "ftp://example.org/h" }),
            "uri",
        ),
        (
            json!({ "event": "app.*", "uri": "https://example.org/h", "rate_limit_per_second": 0 }),
            "rate_limit_per_second",
        ),
        (
            json!({ "event": "app.*", "uri": "https://example.org/h", "mail_exceptions_to": "not-an-address" }),
            "mail_exceptions_to",
        ),
        (
            json!({ "event": "app.*", "uri": "https://example.org/h", "webhook_policy_id": "0190c0de-0000-7000-8000-000000000001" }),
            "no webhook policy",
        ),
    ];
    assert_each_refused(&server, &token, "/v1/webhooks", refused).await;
    let listed = server.get("/v1/webhooks", &token).json_answer().await;
    assert_eq!(listed, json!([]), "nothing was created");
}

async fn slow_and_broken_receivers_do_not_delay_others(backend: Backend) {
    let (server, token, fast) = delivering_server(backend, ADMIN_SCOPES).await;
    let slow = Receiver::start().await;
    verified_webhook(&server, &token, &fast, "app.*").await;
    verified_webhook(&server, &token, &slow, "app.*").await;
    slow.answer_by_default(Reply::Hang);
    for n in 0..50 {
        publish(&server, &token, "app.burst.event", &n.to_string()).await;
    }
    let started = std::time::Instant::now();
    fast.wait_for_messages(50).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the fast receiver waited on the hanging one"
    );
}

async fn every_kind_of_failure_is_recorded(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    receiver.answer_event("app.a.closed", Reply::CloseMidResponse);
    receiver.answer_event("app.b.limited", Reply::RetryAfter(429, "120".to_owned()));
    receiver.answer_event("app.c.hung", Reply::Hang);
    for event in ["app.a.closed", "app.b.limited", "app.c.hung"] {
        publish(&server, &token, event, "1").await;
    }
    let list = eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{id}/deliveries?status=pending&per_page=100"),
        |list| {
            list.as_array()
                .is_some_and(|list| list.iter().filter(|d| d["attempt"] == 1).count() == 3)
        },
    )
    .await;
    let by_event = |name: &str| {
        list.as_array()
            .expect("array")
            .iter()
            .find(|d| d["event"] == name)
            .cloned()
            .expect("delivery")
    };
    let closed = by_event("app.a.closed");
    assert!(
        closed["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{closed}"
    );
    let limited = by_event("app.b.limited");
    assert_eq!(limited["response_status"], 429);
    let sent: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(limited["sent_at"].clone()).expect("sent_at");
    let next: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(limited["next_attempt_at"].clone()).expect("next");
    assert_eq!((next - sent).num_seconds(), 120, "Retry-After is honoured");
    let hung = by_event("app.c.hung");
    assert!(hung["response_status"].is_null());
    assert!(
        hung["error"].as_str().expect("error").contains("timed out"),
        "{hung}"
    );

    // Connection refused: a receiver that is gone.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/hook", listener.local_addr().expect("address"))
    };
    let refused = create_webhook(&server, &token, json!({ "event": "app.*", "uri": gone })).await;
    let refused_id = refused["id"].as_str().expect("id");
    let verify = eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{refused_id}/deliveries"),
        |list| list[0]["attempt"] == 1,
    )
    .await;
    assert!(
        verify[0]["error"]
            .as_str()
            .expect("error")
            .contains("refused"),
        "{}",
        verify[0]
    );
}

async fn ordered_webhooks_deliver_strictly_in_event_order(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    let response = server
        .patch(&format!("/v1/webhooks/{id}"), &token)
        .json(&json!({ "ordered": true }))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(json_body(response).await["ordered"], true);
    receiver.script([Reply::Status(503)]);
    for n in 1..=3 {
        publish(&server, &token, "app.step.done", &n.to_string()).await;
    }
    receiver.wait_for_messages(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.messages().len(),
        1,
        "later events wait while the first is retried"
    );
    advance(&server, RETRY_SCHEDULE_SECS[1]);
    let messages = receiver.wait_for_messages(4).await;
    let order: Vec<String> = messages
        .iter()
        .map(|request| {
            request.json()["object_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(order, ["1", "1", "2", "3"]);
}

async fn a_webhook_rate_limit_is_enforced(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let webhook = create_webhook(
        &server,
        &token,
        json!({ "event": "app.*", "uri": receiver.url, "rate_limit_per_second": 20 }),
    )
    .await;
    assert_eq!(webhook["rate_limit_per_second"], 20);
    let id = webhook["id"].as_str().expect("id");
    eventually(&server, &token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["verified"] == true
    })
    .await;
    for n in 0..21 {
        publish(&server, &token, "app.fast.event", &n.to_string()).await;
    }
    let messages = receiver.wait_for_messages(21).await;
    let span = messages[20].at - messages[0].at;
    // 21 attempts at 20 per second take at least a second, however fast the receiver is.
    assert!(
        span >= Duration::from_millis(950),
        "21 attempts in {span:?}"
    );
}

async fn private_targets_are_refused_unless_allowed(backend: Backend) {
    let (server, token) = provisioning_with(
        backend,
        TestServerOptions {
            refuse_private_targets: true,
            ..TestServerOptions::default()
        },
        "account_administrator",
        ADMIN_SCOPES,
    )
    .await;
    for uri in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/",
    ] {
        let response = server
            .post("/v1/webhooks", &token)
            .json(&json!({ "event": "app.*", "uri": uri }))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        let error = json_body(response).await.to_string();
        assert!(
            error.contains("GATEHOUSE_ALLOW_PRIVATE_TARGETS"),
            "{uri}: {error}"
        );
    }
    // A host name's refusal does not say what it resolves to: no address, no specific reason.
    let response = server
        .post("/v1/webhooks", &token)
        .json(&json!({ "event": "app.*", "uri": "http://localhost:9/hook" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let error = json_body(response).await.to_string();
    assert!(
        error.contains("localhost resolves to an address webhooks may not reach"),
        "{error}"
    );
    for hidden in ["127.0.0.1", "::1", "a loopback address"] {
        assert!(!error.contains(hidden), "{hidden}: {error}");
    }
}

async fn metrics_count_deliveries_and_show_the_queue(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    publish(&server, &token, "app.metric.event", "1").await;
    receiver.wait_for_messages(1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = server
            .client
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("text");
        if text.contains("gatehouse_webhook_deliveries_total{outcome=\"succeeded\"}")
            && text.contains("gatehouse_webhook_attempt_duration_seconds_bucket")
            && text.contains("gatehouse_webhook_queue_due")
            && text.contains("gatehouse_webhook_oldest_due_age_seconds")
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn another_accounts_webhooks_and_deliveries_are_invisible(backend: Backend) {
    let (server, token, receiver, id) = delivering_to_one_webhook(backend).await;
    publish(&server, &token, "app.secret.event", "1").await;
    receiver.wait_for_messages(1).await;
    let deliveries = eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{id}/deliveries"),
        |list| {
            list.as_array().is_some_and(|list| {
                list.len() == 2 && list.iter().all(|d| d["status"] == "succeeded")
            })
        },
    )
    .await;
    let delivery = deliveries[1]["id"].as_str().expect("id");

    let other_token = server.globex_admin_token(ADMIN_SCOPES).await;
    let not_found = [
        server.get(&format!("/v1/webhooks/{id}"), &other_token),
        server
            .patch(&format!("/v1/webhooks/{id}"), &other_token)
            .json(&json!({ "disabled": true })),
        server.delete(&format!("/v1/webhooks/{id}"), &other_token),
        server.post(&format!("/v1/webhooks/{id}/verification"), &other_token),
        server.get(&format!("/v1/webhooks/{id}/deliveries"), &other_token),
        server
            .post(&format!("/v1/webhooks/{id}/redeliver_failed"), &other_token)
            .json(&json!({ "since": "2020-01-01T00:00:00Z" })),
        server.get(&format!("/v1/webhook_deliveries/{delivery}"), &other_token),
        server.post(
            &format!("/v1/webhook_deliveries/{delivery}/redeliver"),
            &other_token,
        ),
        server.get(
            &format!("/v1/webhook_deliveries?webhook_id={id}"),
            &other_token,
        ),
    ];
    for request in not_found {
        let response = request.send().await.expect("request");
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{}",
            response.url()
        );
    }
    for path in [
        "/v1/webhooks",
        "/v1/webhook_deliveries",
        "/v1/webhook_notifications",
    ] {
        let listed = server.get(path, &other_token).json_answer().await;
        assert_eq!(listed, json!([]), "{path}");
    }
    // Globex's events reach only Globex's webhooks.
    let published = server
        .post("/v1/events", &other_token)
        .json(&json!({ "event": "app.secret.event" }))
        .json_answer()
        .await;
    assert_eq!(published["deliveries"], 0);
    let still = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(still["disabled"], false);
}

async fn exception_notices_are_mailed_over_smtp(backend: Backend) {
    let smtp = common::smtp::SmtpServer::start().await;
    let (server, token) = provisioning_with(
        backend,
        TestServerOptions {
            deliver: true,
            smtp_url: Some(smtp.url.clone()),
            ..TestServerOptions::default()
        },
        "account_administrator",
        ADMIN_SCOPES,
    )
    .await;
    let receiver = Receiver::start().await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    receiver.answer_by_default(Reply::Status(502));
    publish(&server, &token, "app.will.fail", "1").await;
    let notices = eventually(&server, &token, "/v1/webhook_notifications", |list| {
        list[0]["sent_at"].is_string()
    })
    .await;
    assert!(notices[0]["send_error"].is_null());
    // The notice links the delivery's console page on this server (a page, not a JSON
    // endpoint that needs a token).
    let delivery = notices[0]["delivery_id"].as_str().expect("delivery id");
    let link = format!("{}/console/deliveries/{delivery}", server.base_url);
    assert!(
        notices[0]["body"].as_str().expect("body").contains(&link),
        "{}",
        notices[0]["body"]
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipients, ["admin@example.org"]);
    assert!(mails[0].data.contains("HTTP 502"), "{}", mails[0].data);
}

/// A lease is short (here 2 s) and renewed while its attempt runs (every 500 ms): an attempt
/// that outlasts several leases is still sent once, not taken over and sent again in flight.
async fn an_attempt_longer_than_its_lease_is_sent_once(backend: Backend) {
    let (server, token) = provisioning_with(
        backend,
        TestServerOptions {
            deliver: true,
            worker: Some(gatehouse::delivery::worker::WorkerSettings {
                lease: std::time::Duration::from_secs(2),
                ..common::test_worker_settings()
            }),
            webhook_timeout: Some(std::time::Duration::from_secs(10)),
            ..TestServerOptions::default()
        },
        "account_administrator",
        ADMIN_SCOPES,
    )
    .await;
    let receiver = Receiver::start().await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    receiver.answer_event(
        "app.slow.thing",
        Reply::Slow(std::time::Duration::from_millis(4_500)),
    );
    publish(&server, &token, "app.slow.thing", "1").await;
    receiver
        .wait_for(1, |r| r.event() == "app.slow.thing")
        .await;
    // While the receiver takes its time, the service's clock passes three leases, a quarter
    // lease every 300 ms; a claim runs every 20 ms meanwhile. A renewal may come up to 700 ms
    // late before the lease would run out between two of them.
    for _ in 0..12 {
        server.clock.advance(chrono::Duration::milliseconds(500));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.slow.thing",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let sent = receiver
        .received()
        .into_iter()
        .filter(|r| r.event() == "app.slow.thing")
        .count();
    assert_eq!(sent, 1, "the attempt in flight was sent again");
}

both_backends!(
    an_attempt_longer_than_its_lease_is_sent_once,
    exception_notices_are_mailed_over_smtp,
    another_accounts_webhooks_and_deliveries_are_invisible,
    ordered_webhooks_deliver_strictly_in_event_order,
    a_webhook_rate_limit_is_enforced,
    private_targets_are_refused_unless_allowed,
    metrics_count_deliveries_and_show_the_queue,
    verification_activates_the_webhook_and_messages_follow,
    changing_the_uri_needs_a_new_verification,
    a_verification_callback_expires_after_24_hours,
    the_purge_forgets_expired_verification_callbacks,
    an_unverified_webhook_gets_a_fresh_callback_on_any_change,
    a_uri_the_account_verified_needs_no_new_verification,
    a_test_send_reaches_a_disabled_webhook_alone_in_test_mode,
    basic_authentication_in_the_uri_is_sent_and_never_shown,
    events_fan_out_to_every_matching_active_webhook,
    failed_attempts_follow_the_retry_schedule_and_notices_are_rate_limited,
    twenty_consecutive_failures_disable_the_webhook,
    redelivery_sends_the_same_bytes_as_a_linked_delivery,
    a_delivery_shows_what_was_sent_after_its_webhook_changes,
    redeliver_failed_since_repeats_only_failed_deliveries,
    idempotency_key_replays_within_24_hours,
    publishing_checks_names_payloads_and_scopes,
    webhooks_refuse_bad_fields,
    slow_and_broken_receivers_do_not_delay_others,
    every_kind_of_failure_is_recorded,
);
