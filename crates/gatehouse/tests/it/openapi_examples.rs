//! The examples of the OpenAPI document are real answers. `src/http/api/examples.json` holds,
//! per `operationId`, a request body and an answer recorded from a live server by the flow
//! below; the document shows them on each operation. This test replays the flow and fails when
//! an answer's shape (its keys and value types) no longer matches its example, or when an
//! operation has no example. After a deliberate change of an answer, record them again with
//!
//! `GATEHOUSE_RECORD_OPENAPI_EXAMPLES=1 cargo nextest run -p gatehouse --test it -E 'test(/openapi_examples/)'`

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::common::receiver::Receiver;
use crate::common::{Backend, RequestExt, TestServer, TestServerOptions, eventually};
use crate::openapi::{acme_admin_token, served_document};

const EXAMPLES_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/api/examples.json");

/// Answer fields whose values are secrets: recorded with a placeholder of the same form.
const SECRET_FIELDS: &[&str] = &["token_secret", "signing_secret", "secret"];

/// The requests and answers of one run, by operation.
#[derive(Default)]
struct Recorder {
    examples: BTreeMap<String, Value>,
}

impl Recorder {
    /// Sends `body` (if any) to `path` with `token`, expects a success, and records both as
    /// the example of `operation_id`. Returns the answer.
    async fn call(
        &mut self,
        server: &TestServer,
        token: Option<&str>,
        operation_id: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = server.client.request(method.clone(), server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("text");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        let answer: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON answer")
        };
        let mut example = Map::new();
        if let Some(body) = body {
            example.insert("request".to_owned(), body);
        }
        if status != StatusCode::NO_CONTENT {
            example.insert("response".to_owned(), redact(answer.clone()));
        }
        self.examples
            .insert(operation_id.to_owned(), Value::Object(example));
        answer
    }
}

/// Replaces the values of [`SECRET_FIELDS`] by placeholders that keep their prefix.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(secret) if SECRET_FIELDS.contains(&key.as_str()) => {
                        let prefix = secret.rsplit_once('_').map_or("", |(prefix, _)| prefix);
                        (key, Value::String(format!("{prefix}_EXAMPLE")))
                    }
                    value => (key, redact(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        scalar => scalar,
    }
}

/// What a value looks like, less its values: keys and types, arrays by their first item.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => json!([items.first().map(shape)]),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
    }
}

/// Every operation of the REST API, called once in a flow a client would follow.
async fn record_every_operation() -> BTreeMap<String, Value> {
    let server = TestServer::start_with(
        Backend::Sqlite,
        TestServerOptions {
            deliver: true,
            ..TestServerOptions::default()
        },
    )
    .await;
    let token = acme_admin_token(&server).await;
    let receiver = Receiver::start().await;
    let mut recorder = Recorder::default();
    let mut call = async |operation_id: &str, method: Method, path: &str, body: Option<Value>| {
        recorder
            .call(&server, Some(&token), operation_id, method, path, body)
            .await
    };

    call("get_me", Method::GET, "/v1/me", None).await;
    call("get_account", Method::GET, "/v1/account", None).await;
    call(
        "update_account",
        Method::PATCH,
        "/v1/account",
        Some(json!({ "settings": { "delivery_retention_days": 30 } })),
    )
    .await;
    // Before any webhook: an empty queue, so the example's shape never varies.
    call("get_status", Method::GET, "/v1/status", None).await;
    let person = call(
        "create_person",
        Method::POST,
        "/v1/people",
        Some(json!({
            "name": "Ada Lovelace",
            "primary_email": "ada@example.org",
            "job_title": "Analyst",
            "roles": ["specialist"]
        })),
    )
    .await;
    let person_path = format!("/v1/people/{}", person["id"].as_str().expect("id"));
    call("get_person", Method::GET, &person_path, None).await;
    call(
        "update_person",
        Method::PATCH,
        &person_path,
        Some(json!({ "job_title": "Lead analyst" })),
    )
    .await;
    call("list_people", Method::GET, "/v1/people?per_page=2", None).await;

    let created_token = call(
        "create_personal_access_token",
        Method::POST,
        "/v1/personal_access_tokens",
        Some(json!({
            "name": "Deploy script",
            "expires_in": 30,
            "scopes": ["webhooks:read", "webhook_deliveries:read"]
        })),
    )
    .await;
    let token_path = format!(
        "/v1/personal_access_tokens/{}",
        created_token["id"].as_str().expect("id")
    );
    call("get_personal_access_token", Method::GET, &token_path, None).await;
    call(
        "list_personal_access_tokens",
        Method::GET,
        "/v1/personal_access_tokens",
        None,
    )
    .await;
    call(
        "update_personal_access_token",
        Method::PATCH,
        &token_path,
        Some(json!({
            "name": "Deploy script (read-only)",
            "description": "Reads the deliveries of the release webhook",
            "scopes": ["webhook_deliveries:read"]
        })),
    )
    .await;
    call(
        "revoke_personal_access_token",
        Method::POST,
        &format!("{token_path}/revoke"),
        None,
    )
    .await;
    call(
        "delete_personal_access_token",
        Method::DELETE,
        &token_path,
        None,
    )
    .await;

    // The account's SCIM provisioning credential, made, shown, rotated and revoked.
    call("create_scim_token", Method::POST, "/v1/scim_token", None).await;
    call("get_scim_token", Method::GET, "/v1/scim_token", None).await;
    call(
        "rotate_scim_token",
        Method::POST,
        "/v1/scim_token/rotate",
        Some(json!({ "overlap_days": 7 })),
    )
    .await;
    call("revoke_scim_token", Method::DELETE, "/v1/scim_token", None).await;

    // SCIM records come from the provisioning client; REST shows them.
    let user = server
        .client
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "grace@example.org",
            "name": { "givenName": "Grace", "familyName": "Hopper" },
            "emails": [{ "value": "grace@example.org", "type": "work", "primary": true }],
            "active": true
        }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("SCIM User");
    let group = server
        .client
        .post(server.url("/scim/v2/Groups"))
        .bearer_auth(&token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Tour Guides",
            "members": [{ "value": user["id"] }]
        }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("SCIM Group");
    let user_id = user["id"].as_str().expect("SCIM User id");
    let group_id = group["id"].as_str().expect("SCIM Group id");
    call("list_scim_users", Method::GET, "/v1/scim_users", None).await;
    call(
        "get_scim_user",
        Method::GET,
        &format!("/v1/scim_users/{user_id}"),
        None,
    )
    .await;
    call("list_scim_groups", Method::GET, "/v1/scim_groups", None).await;
    call(
        "get_scim_group",
        Method::GET,
        &format!("/v1/scim_groups/{group_id}"),
        None,
    )
    .await;
    call(
        "list_scim_group_members",
        Method::GET,
        &format!("/v1/scim_groups/{group_id}/members"),
        None,
    )
    .await;

    let policy = call(
        "create_webhook_policy",
        Method::POST,
        "/v1/webhook_policies",
        Some(json!({
            "name": "Signed for the ERP",
            "jwt_alg": "es256",
            "jwt_audience": "erp.example.org",
            "jwt_claim_expires_in": 10
        })),
    )
    .await;
    let policy_id = policy["id"].as_str().expect("policy id").to_owned();
    let policy_path = format!("/v1/webhook_policies/{policy_id}");
    call("get_webhook_policy", Method::GET, &policy_path, None).await;
    call(
        "update_webhook_policy",
        Method::PATCH,
        &policy_path,
        Some(json!({ "jwt_claim_expires_in": 5 })),
    )
    .await;
    call(
        "rotate_webhook_policy_key",
        Method::POST,
        &format!("{policy_path}/rotate"),
        Some(json!({ "overlap_seconds": 3600 })),
    )
    .await;
    for (operation_id, path) in [
        ("list_webhook_policies", "/v1/webhook_policies"),
        (
            "list_enabled_webhook_policies",
            "/v1/webhook_policies/enabled",
        ),
        (
            "list_disabled_webhook_policies",
            "/v1/webhook_policies/disabled",
        ),
    ] {
        call(operation_id, Method::GET, path, None).await;
    }

    let webhook = call(
        "create_webhook",
        Method::POST,
        "/v1/webhooks",
        Some(json!({
            "name": "Orders to the ERP",
            "event": "app.order.*",
            "uri": receiver.url,
            "description": "Every order event, for the ERP's import"
        })),
    )
    .await;
    let webhook_id = webhook["id"].as_str().expect("webhook id").to_owned();
    let webhook_path = format!("/v1/webhooks/{webhook_id}");
    // Verified once the receiver called back; the verification's delivery is recorded (and
    // becomes `last_delivery_id`) by the worker just after, so wait for both.
    eventually(&server, &token, &webhook_path, |webhook| {
        webhook["verified"] == true && webhook["last_delivery_id"].is_string()
    })
    .await;
    call("get_webhook", Method::GET, &webhook_path, None).await;
    call(
        "update_webhook",
        Method::PATCH,
        &webhook_path,
        Some(json!({ "description": "Orders, for the ERP's nightly import" })),
    )
    .await;
    call(
        "get_webhook_signing_secret",
        Method::GET,
        &format!("{webhook_path}/signing_secret"),
        None,
    )
    .await;
    call(
        "rotate_webhook_signing_secret",
        Method::POST,
        &format!("{webhook_path}/signing_secret/rotate"),
        Some(json!({ "overlap_seconds": 3600 })),
    )
    .await;
    for (operation_id, path) in [
        ("list_webhooks", "/v1/webhooks"),
        ("list_enabled_webhooks", "/v1/webhooks/enabled"),
        ("list_disabled_webhooks", "/v1/webhooks/disabled"),
    ] {
        call(operation_id, Method::GET, path, None).await;
    }

    call("get_event_catalog", Method::GET, "/v1/events/catalog", None).await;
    call(
        "publish_event",
        Method::POST,
        "/v1/events",
        Some(json!({
            "event": "app.order.shipped",
            "object_id": "order-1042",
            "payload": { "order": "1042", "carrier": "DHL" }
        })),
    )
    .await;
    let deliveries = eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries?webhook_id={webhook_id}"),
        |deliveries| {
            deliveries.as_array().is_some_and(|deliveries| {
                deliveries
                    .iter()
                    .any(|d| d["status"] == "succeeded" && d["event"] == "app.order.shipped")
            })
        },
    )
    .await;
    let delivery = deliveries
        .as_array()
        .and_then(|deliveries| {
            deliveries
                .iter()
                .find(|d| d["status"] == "succeeded" && d["event"] == "app.order.shipped")
        })
        .expect("a delivered message");
    let delivery_path = format!(
        "/v1/webhook_deliveries/{}",
        delivery["id"].as_str().expect("delivery id")
    );
    call(
        "list_webhook_deliveries",
        Method::GET,
        "/v1/webhook_deliveries?per_page=5",
        None,
    )
    .await;
    call("get_webhook_delivery", Method::GET, &delivery_path, None).await;
    call(
        "redeliver_webhook_delivery",
        Method::POST,
        &format!("{delivery_path}/redeliver"),
        None,
    )
    .await;
    call(
        "list_deliveries_of_webhook",
        Method::GET,
        &format!("{webhook_path}/deliveries"),
        None,
    )
    .await;
    call(
        "redeliver_failed_deliveries_of_webhook",
        Method::POST,
        &format!("{webhook_path}/redeliver_failed"),
        Some(json!({ "since": "2026-01-01T00:00:00Z" })),
    )
    .await;
    call(
        "send_webhook_test_message",
        Method::POST,
        &format!("{webhook_path}/test"),
        None,
    )
    .await;
    call(
        "list_webhook_notifications",
        Method::GET,
        "/v1/webhook_notifications",
        None,
    )
    .await;

    // A second webhook whose receiver leaves the verification to the test: the callback.
    let second = Receiver::start().await;
    second.complete_verifications(false);
    let unverified: Value = server
        .post("/v1/webhooks", &token)
        .json(&json!({ "event": "app.invoice.*", "uri": second.url }))
        .json_answer()
        .await;
    let unverified_path = format!("/v1/webhooks/{}", unverified["id"].as_str().expect("id"));
    call(
        "resend_webhook_verification",
        Method::POST,
        &format!("{unverified_path}/verification"),
        None,
    )
    .await;
    let verifications = second
        .wait_for(2, |request| request.event() == "webhook.verify")
        .await;
    let callback = verifications[1].json()["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    let callback_path = callback
        .strip_prefix(&server.base_url)
        .expect("a callback to this server");
    recorder
        .call(
            &server,
            None,
            "verify_webhook",
            Method::GET,
            callback_path,
            None,
        )
        .await;
    // The same callback by POST, for a third URI.
    let third = Receiver::start().await;
    third.complete_verifications(false);
    server
        .post("/v1/webhooks", &token)
        .json(&json!({ "event": "app.invoice.*", "uri": third.url }))
        .expect_status(StatusCode::CREATED)
        .await;
    let verification = third
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let callback = verification[0].json()["payload"]["callback"]
        .as_str()
        .expect("callback")
        .to_owned();
    recorder
        .call(
            &server,
            None,
            "verify_webhook_by_post",
            Method::POST,
            callback
                .strip_prefix(&server.base_url)
                .expect("a callback to this server"),
            None,
        )
        .await;
    // A webhook asking for OpenID Connect discovery gives its policy a public issuer. (At a URI
    // already verified, it is active at once.)
    let discovered = server
        .post("/v1/webhook_policies", &token)
        .json(&json!({ "name": "erp-discovery", "jwt_alg": "es256" }))
        .json_answer()
        .await;
    server
        .post("/v1/webhooks", &token)
        .json(&json!({
            "event": "app.invoice.*", "uri": receiver.url,
            "webhook_policy_id": discovered["id"], "openid_connect_discovery": true,
        }))
        .expect_status(StatusCode::CREATED)
        .await;
    let issuer = "/accounts/acme/webhook_policies/erp-discovery";
    recorder
        .call(
            &server,
            None,
            "get_policy_openid_configuration",
            Method::GET,
            &format!("{issuer}/.well-known/openid-configuration"),
            None,
        )
        .await;
    recorder
        .call(
            &server,
            None,
            "get_policy_jwks",
            Method::GET,
            &format!("{issuer}/jwks"),
            None,
        )
        .await;

    let mut call = async |operation_id: &str, method: Method, path: &str| {
        recorder
            .call(&server, Some(&token), operation_id, method, path, None)
            .await
    };
    call("delete_webhook", Method::DELETE, &unverified_path).await;
    call("delete_webhook_policy", Method::DELETE, &policy_path).await;
    recorder.examples
}

#[tokio::test]
async fn the_examples_are_what_the_service_answers() {
    let recorded = record_every_operation().await;
    if std::env::var_os("GATEHOUSE_RECORD_OPENAPI_EXAMPLES").is_some() {
        let text = serde_json::to_string_pretty(&recorded).expect("JSON") + "\n";
        std::fs::write(EXAMPLES_FILE, text).expect("write the examples");
        return;
    }
    let stored: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(EXAMPLES_FILE).expect("examples file"))
            .expect("examples JSON");
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        recorded.keys().collect::<Vec<_>>(),
        "the operations with an example are those the flow calls"
    );
    for (operation_id, example) in &recorded {
        assert_eq!(
            shape(&stored[operation_id]),
            shape(example),
            "{operation_id}: the example's shape is not the answer's; record the examples again"
        );
    }

    // The document shows them, on the operation they were recorded for.
    let server = TestServer::start(Backend::Sqlite).await;
    let document = served_document(&server).await;
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let operation_id = operation["operationId"].as_str().expect("operationId");
            let name = format!("{} {path} ({operation_id})", method.to_uppercase());
            let example = stored
                .get(operation_id)
                .unwrap_or_else(|| panic!("{name}: no example recorded"));
            if let Some(request) = example.get("request") {
                assert_eq!(
                    &operation["requestBody"]["content"]["application/json"]["example"], request,
                    "{name}: request example"
                );
            }
            if let Some(response) = example.get("response") {
                let shown = operation["responses"]
                    .as_object()
                    .expect("responses")
                    .iter()
                    .filter(|(status, _)| status.starts_with('2'))
                    .find_map(|(_, answer)| answer["content"]["application/json"].get("example"));
                assert_eq!(shown, Some(response), "{name}: response example");
            }
        }
    }
    assert_eq!(operations, stored.len(), "one example per operation");
}
