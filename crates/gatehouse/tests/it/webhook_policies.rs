//! Webhook policies and message signatures end to end on both backends, against real receivers
//! on 127.0.0.1: the one-time public key, signed deliveries verified with RustCrypto's own
//! verifiers (PyJWT and standardwebhooks check the same in scripts/webhook-signing-e2e), fresh
//! signatures per retry, key rotation with overlap, a disabled policy holding deliveries, Standard
//! Webhooks secrets and their rotation, validation, roles and account isolation.

use std::time::Duration;

use crate::common::receiver::{Received, Receiver, Reply};
use crate::common::{Backend, RequestExt, TestServer, delivering_server, eventually};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::delivery::signing::standard_webhooks::{WebhookSecret, verify};
use pkcs8::DecodePublicKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN_SCOPES: &[&str] = &[
    "webhooks:read",
    "webhooks:write",
    "webhook_deliveries:read",
    "webhook_policies:read",
    "webhook_policies:write",
    "events:write",
];

/// Sends `request` expecting `expected`; returns the JSON answer (null if none). A wrong status
/// names the request and shows the answer.
async fn send(request: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let (client, request) = request.build_split();
    let request = request.expect("request");
    let sent = format!("{} {}", request.method(), request.url());
    let response = client.execute(request).await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{sent}: {body}");
    body
}

/// PATCHes `changes` to `path` with `token` expecting 200; returns the answer.
async fn patched(server: &TestServer, token: &str, path: &str, changes: Value) -> Value {
    send(server.patch(path, token).json(&changes), StatusCode::OK).await
}

/// Asserts that the error answer `refused` has a message containing `text`.
fn assert_message(refused: &Value, text: &str) {
    let message = refused["message"].as_str().expect("message");
    assert!(message.contains(text), "{text}: {refused}");
}

/// Whether `message` carries a Standard Webhooks signature made with `secret`.
fn signed_by(message: &Received, secret: &WebhookSecret) -> bool {
    let timestamp = message.header("webhook-timestamp").expect("timestamp");
    verify(
        secret,
        message.header("webhook-id").expect("webhook-id"),
        timestamp.parse().expect("seconds"),
        &message.body,
        message.header("webhook-signature").expect("signature"),
    )
}

/// Whether some delivery of the JSON array `deliveries` matches.
fn any_delivery(deliveries: &Value, matches: impl Fn(&Value) -> bool) -> bool {
    deliveries.as_array().into_iter().flatten().any(matches)
}

/// The path of a policy, from its create response.
fn policy_path(policy: &Value) -> String {
    format!(
        "/v1/webhook_policies/{}",
        policy["id"].as_str().expect("id")
    )
}

async fn create_policy(server: &TestServer, token: &str, body: Value) -> Value {
    send(
        server.post("/v1/webhook_policies", token).json(&body),
        StatusCode::CREATED,
    )
    .await
}

/// A webhook listening to `app.*` at the receiver, linked to `policy`, once verified; with
/// its create response (which holds the signing secret).
async fn verified_webhook(
    server: &TestServer,
    token: &str,
    receiver: &Receiver,
    policy: Option<&str>,
) -> Value {
    let created = send(
        server.post("/v1/webhooks", token).json(&json!({
            "event": "app.*", "uri": receiver.url, "webhook_policy_id": policy,
        })),
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(server, token, &format!("/v1/webhooks/{id}"), |webhook| {
        webhook["verified"] == true
    })
    .await;
    created
}

async fn publish(server: &TestServer, token: &str, object_id: &str) {
    send(
        server
            .post("/v1/events", token)
            .json(&json!({ "event": "app.thing.done", "object_id": object_id, "payload": { "n": object_id } })),
        StatusCode::ACCEPTED,
    )
    .await;
}

/// The compact JWS a signed message carries: its body (`jwt` format), or the `jwt` of Xurrent's
/// `{"jwt": …}` body.
fn signed_token(received: &Received) -> String {
    if received.header("content-type") == Some("application/jwt") {
        return String::from_utf8(received.body.clone()).expect("text");
    }
    let wrapper: Value = serde_json::from_slice(&received.body).expect("a JSON body");
    wrapper["jwt"].as_str().expect("a jwt key").to_owned()
}

/// A signed message's JWS taken apart: the signing input, the signature's bytes, and the
/// header and claims (unverified).
struct Jws {
    signing_input: String,
    signature: Vec<u8>,
    header: Value,
    claims: Value,
}

impl Jws {
    fn of(received: &Received) -> Self {
        let token = signed_token(received);
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let mut parts = signing_input.split('.').map(|part| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
        });
        Self {
            header: parts.next().expect("header"),
            claims: parts.next().expect("claims"),
            signature: URL_SAFE_NO_PAD.decode(signature).expect("base64url"),
            signing_input: signing_input.to_owned(),
        }
    }
}

/// The header and claims of a signed message's JWS, after checking its ES256 signature with
/// `pem`.
fn verified_es256(received: &Received, pem: &str) -> (Value, Value) {
    use p256::ecdsa::signature::Verifier;
    let jws = Jws::of(received);
    let key = p256::ecdsa::VerifyingKey::from_public_key_pem(pem).expect("SPKI PEM");
    let signature = p256::ecdsa::Signature::from_slice(&jws.signature).expect("r || s");
    key.verify(jws.signing_input.as_bytes(), &signature)
        .expect("the signature verifies with the one-time public key");
    (jws.header, jws.claims)
}

/// Waits until the receiver has had `count` `app.thing.done` messages.
async fn wait_for_messages(receiver: &Receiver, count: usize) {
    receiver
        .wait_for(count, |r| r.event() == "app.thing.done")
        .await;
}

/// Moves the test clock by `seconds`, past the lease of any delivery in flight, once every
/// `app.thing.done` delivery so far is recorded as succeeded — or one the receiver already has
/// would (rightly, at least once) be sent again.
async fn advance_past_the_lease(server: &TestServer, token: &str, seconds: i64) {
    eventually(
        server,
        token,
        "/v1/webhook_deliveries?event=app.thing.done&per_page=100",
        |list| {
            list.as_array()
                .is_some_and(|list| list.iter().all(|d| d["status"] == "succeeded"))
        },
    )
    .await;
    server.clock.advance(chrono::Duration::seconds(seconds));
}

fn messages(receiver: &Receiver) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|request| request.event() == "app.thing.done")
        .collect()
}

async fn the_public_key_is_shown_once_and_never_the_private_key(backend: Backend) {
    let (server, token, _) = delivering_server(backend, ADMIN_SCOPES).await;
    let created = create_policy(
        &server,
        &token,
        json!({"name": "Receiver A", "jwt_alg": "es256", "jwt_claim_expires_in": 10, "jwt_audience": "https://a.example"}),
    )
    .await;
    let pem = created["public_key_pem"].as_str().expect("public_key_pem");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert_eq!(created["public_jwk"]["kty"], "EC");
    assert_eq!(created["public_jwk"]["crv"], "P-256");
    assert_eq!(created["public_jwk"]["kid"], created["key_id"]);
    assert_eq!(created["jwt_alg"], "es256");
    assert_eq!(created["jwt_claim_expires_in"], 10);
    assert_eq!(
        created["jwt_format"], "xurrent",
        "Xurrent's format is the default"
    );
    assert!(!created.to_string().contains("PRIVATE"), "{created}");

    let read = send(server.get(&policy_path(&created), &token), StatusCode::OK).await;
    let listed = send(server.get("/v1/webhook_policies", &token), StatusCode::OK).await;
    for later in [&read, &listed] {
        let text = later.to_string();
        assert!(!text.contains("BEGIN PUBLIC KEY"), "{text}");
        assert!(!text.contains("public_jwk"), "{text}");
        assert!(!text.contains("PRIVATE"), "{text}");
    }
    assert_eq!(read["key_id"], created["key_id"]);
    assert_eq!(read["keys"][0]["signing"], true);
    assert_eq!(listed[0]["id"], created["id"]);
    for (filter, count) in [("enabled", 1), ("disabled", 0)] {
        let path = format!("/v1/webhook_policies/{filter}");
        let listed = send(server.get(&path, &token), StatusCode::OK).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(count), "{filter}");
    }

    // An HMAC policy has no public half: its shared secret is shown once instead.
    let hmac = create_policy(
        &server,
        &token,
        json!({"name": "Shared", "jwt_alg": "hs256"}),
    )
    .await;
    assert!(hmac["public_key_pem"].is_null());
    let secret = URL_SAFE_NO_PAD
        .decode(hmac["secret"].as_str().expect("secret"))
        .expect("base64url");
    assert_eq!(secret.len(), 32);
    let read = send(server.get(&policy_path(&hmac), &token), StatusCode::OK).await;
    assert!(read.get("secret").is_none(), "{read}");

    // A page of policies shows each with its own signing key.
    let listed = send(server.get("/v1/webhook_policies", &token), StatusCode::OK).await;
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 2);
    for (policy, made) in listed.iter().zip([&created, &hmac]) {
        assert_eq!(policy["id"], made["id"]);
        assert_eq!(policy["key_id"], made["key_id"]);
        assert_eq!(policy["keys"].as_array().map(Vec::len), Some(1));
    }
}

/// A delivering server whose receiver is sent every `app.*` event by a verified webhook linked
/// to a new policy: the arrange step of the signature tests.
struct Signing {
    server: TestServer,
    token: String,
    receiver: Receiver,
    /// The policy's create response.
    policy: Value,
    /// Its one-time public key.
    pem: String,
    /// The webhook's create response.
    webhook: Value,
}

/// `Signing` with a policy made of `policy` (its create request).
async fn signing(backend: Backend, policy: Value) -> Signing {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, policy).await;
    let pem = policy["public_key_pem"].as_str().expect("pem").to_owned();
    let webhook = verified_webhook(&server, &token, &receiver, policy["id"].as_str()).await;
    Signing {
        server,
        token,
        receiver,
        policy,
        pem,
        webhook,
    }
}

async fn a_linked_webhook_sends_a_jws_its_public_key_verifies(backend: Backend) {
    let policy = json!({
        "name": "A", "jwt_alg": "es256", "jwt_claim_expires_in": 5, "jwt_audience": "https://a.example",
        "jwt_format": "jwt"
    });
    let Signing {
        server,
        token,
        receiver,
        policy,
        pem,
        webhook,
    } = signing(backend, policy).await;
    // The verification message itself was signed.
    let verification = &receiver.received()[0];
    assert_eq!(verification.header("content-type"), Some("application/jwt"));
    verified_es256(verification, &pem);

    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    let message = &messages(&receiver)[0];
    assert_eq!(message.header("content-type"), Some("application/jwt"));
    let (header, claims) = verified_es256(message, &pem);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], policy["key_id"]);
    assert_eq!(claims["event"], "app.thing.done");
    assert_eq!(claims["payload"], json!({"n": "o-1"}));
    assert_eq!(claims["aud"], "https://a.example");
    assert_eq!(claims["iss"], format!("{}/accounts/acme", server.base_url));
    assert_eq!(claims["sub"], webhook["id"]);
    assert_eq!(
        claims["jti"].as_str(),
        message.header("x-gatehouse-delivery")
    );
    let issued_at = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64(), Some(issued_at + 5 * 60));
    assert_eq!(claims["nbf"].as_i64(), Some(issued_at));
    assert!(message.header("webhook-signature").is_none());

    // The delivery record says which key signed it and keeps the exact bytes sent.
    let delivery_id = message.header("x-gatehouse-delivery").expect("id");
    let delivery = eventually(
        &server,
        &token,
        &format!("/v1/webhook_deliveries/{delivery_id}"),
        |delivery| delivery["status"] == "succeeded",
    )
    .await;
    assert_eq!(delivery["webhook_policy_id"], policy["id"]);
    assert_eq!(delivery["signing_key_id"], policy["key_id"]);
    assert_eq!(
        delivery["attempts"][0]["request_body"].as_str(),
        std::str::from_utf8(&message.body).ok()
    );
    assert_eq!(delivery["payload"]["event"], "app.thing.done");
}

async fn the_xurrent_format_wraps_the_jws_and_puts_the_message_under_data(backend: Backend) {
    let Signing {
        server,
        token,
        receiver,
        pem,
        ..
    } = signing(
        backend,
        json!({"name": "A", "jwt_alg": "es256", "jwt_format": "xurrent"}),
    )
    .await;
    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    let message = &messages(&receiver)[0];
    assert_eq!(message.header("content-type"), Some("application/json"));
    assert!(message.json()["jwt"].is_string(), "a jwt key");
    let (_, claims) = verified_es256(message, &pem);
    assert_eq!(claims["data"]["event"], "app.thing.done");
    assert_eq!(claims["data"]["payload"], json!({"n": "o-1"}));
    assert!(claims.get("event").is_none(), "{claims}");
}

/// A policy made without a format or an expiry signs as Xurrent does: `{"jwt": …}` with the
/// message under `data`, `nbf` = `iat`, and no `exp` (nor `aud`) until they are set.
async fn by_default_a_policy_signs_as_xurrent_does(backend: Backend) {
    let Signing {
        server,
        token,
        receiver,
        policy,
        pem,
        webhook,
    } = signing(backend, json!({"name": "A", "jwt_alg": "es256"})).await;
    assert_eq!(policy["jwt_format"], "xurrent");
    assert_eq!(policy["jwt_claim_expires_in"], Value::Null);
    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    let message = &messages(&receiver)[0];
    assert_eq!(message.header("content-type"), Some("application/json"));
    let body = message.json();
    assert_eq!(
        body.as_object().map(|body| body.keys().collect::<Vec<_>>()),
        Some(vec![&"jwt".to_owned()]),
        "{body}"
    );
    let (header, claims) = verified_es256(message, &pem);
    assert_eq!(header["kid"], policy["key_id"]);
    let mut names: Vec<&str> = claims
        .as_object()
        .expect("claims")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["data", "iat", "iss", "jti", "nbf", "sub"],
        "{claims}"
    );
    assert_eq!(claims["data"]["event"], "app.thing.done");
    assert_eq!(claims["data"]["payload"], json!({"n": "o-1"}));
    assert_eq!(claims["sub"], webhook["id"]);
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["jti"].as_str(),
        message.header("x-gatehouse-delivery")
    );

    // Xurrent's "hhh:mm" sets an expiry; null takes it away again.
    let path = policy_path(&policy);
    let changed = patched(
        &server,
        &token,
        &path,
        json!({"jwt_claim_expires_in": "01:30", "jwt_audience": "https://a.example"}),
    )
    .await;
    assert_eq!(changed["jwt_claim_expires_in"], 90);
    publish(&server, &token, "o-2").await;
    wait_for_messages(&receiver, 2).await;
    let (_, claims) = verified_es256(&messages(&receiver)[1], &pem);
    let issued_at = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64(), Some(issued_at + 90 * 60));
    assert_eq!(claims["aud"], "https://a.example");
    let changed = patched(
        &server,
        &token,
        &path,
        json!({"jwt_claim_expires_in": null}),
    )
    .await;
    assert_eq!(changed["jwt_claim_expires_in"], Value::Null);
    publish(&server, &token, "o-3").await;
    wait_for_messages(&receiver, 3).await;
    let (_, claims) = verified_es256(&messages(&receiver)[2], &pem);
    assert!(claims.get("exp").is_none(), "{claims}");

    // A policy asked for the other format keeps it, and says so.
    let jwt = create_policy(
        &server,
        &token,
        json!({"name": "B", "jwt_alg": "es256", "jwt_format": "jwt", "jwt_claim_expires_in": "000:15"}),
    )
    .await;
    assert_eq!(jwt["jwt_format"], "jwt");
    assert_eq!(jwt["jwt_claim_expires_in"], 15);
}

/// The header and claims of a signed message's JWS, after checking its ES384 signature.
fn verified_es384(received: &Received, pem: &str) -> (Value, Value) {
    use p384::ecdsa::signature::Verifier;
    let jws = Jws::of(received);
    let key = p384::ecdsa::VerifyingKey::from_public_key_pem(pem).expect("SPKI PEM");
    let signature = p384::ecdsa::Signature::from_slice(&jws.signature).expect("r || s");
    key.verify(jws.signing_input.as_bytes(), &signature)
        .expect("the signature verifies with the new public key");
    (jws.header, jws.claims)
}

/// Policies as Xurrent has them: a generated name when none is given, `source` and
/// `sourceID`, and an algorithm that may change (a new key, shown once, that signs at once).
async fn policy_fields_as_xurrent_has_them(backend: Backend) {
    let Signing {
        server,
        token,
        receiver,
        policy,
        ..
    } = signing(
        backend,
        json!({"jwt_alg": "es256", "source": "crm", "sourceID": "policy-1"}),
    )
    .await;
    let name = policy["name"].as_str().expect("name");
    assert_eq!(name.len(), 56, "{name}");
    assert!(
        name.bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)),
        "{name}"
    );
    assert_eq!(policy["source"], "crm");
    assert_eq!(policy["sourceID"], "policy-1");
    let other = create_policy(&server, &token, json!({"jwt_alg": "es256", "name": " "})).await;
    assert_eq!(other["name"].as_str().map(str::len), Some(56));
    assert_ne!(other["name"], policy["name"]);
    for (body, text) in [
        (
            json!({"jwt_alg": "es256", "source": "x".repeat(31)}),
            "source",
        ),
        (
            json!({"jwt_alg": "es256", "sourceID": "x".repeat(129)}),
            "sourceID",
        ),
    ] {
        let refused = send(
            server.post("/v1/webhook_policies", &token).json(&body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_message(&refused, text);
    }

    // Changing the algorithm makes a key for it; the answer shows its public half this once.
    let path = policy_path(&policy);
    let changed = patched(
        &server,
        &token,
        &path,
        json!({"jwt_alg": "es384", "sourceID": null}),
    )
    .await;
    assert_eq!(changed["jwt_alg"], "es384");
    assert_ne!(changed["key_id"], policy["key_id"]);
    assert_eq!(changed["source"], "crm");
    assert_eq!(changed["sourceID"], Value::Null);
    let pem = changed["public_key_pem"]
        .as_str()
        .expect("the new public key")
        .to_owned();
    assert_eq!(changed["public_jwk"]["crv"], "P-384");
    let read = send(server.get(&path, &token), StatusCode::OK).await;
    assert!(read.get("public_key_pem").is_none(), "{read}");
    assert_eq!(read["key_id"], changed["key_id"]);
    publish(&server, &token, "after-change").await;
    wait_for_messages(&receiver, 1).await;
    let (header, claims) = verified_es384(&messages(&receiver)[0], &pem);
    assert_eq!(header["alg"], "ES384");
    assert_eq!(header["kid"], changed["key_id"]);
    assert_eq!(claims["data"]["object_id"], "after-change");

    // The same algorithm again changes nothing; during a rotation's overlap no change is made.
    let same = patched(&server, &token, &path, json!({"jwt_alg": "es384"})).await;
    assert_eq!(same["key_id"], changed["key_id"]);
    assert!(same.get("public_key_pem").is_none(), "{same}");
    send(
        server
            .post(&format!("{path}/rotate"), &token)
            .json(&json!({"overlap_seconds": 3600})),
        StatusCode::OK,
    )
    .await;
    let refused = send(
        server
            .patch(&path, &token)
            .json(&json!({"jwt_alg": "es256"})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_message(&refused, "rotation is already under way");
    let read = send(server.get(&path, &token), StatusCode::OK).await;
    assert_eq!(read["jwt_alg"], "es384", "nothing changed");

    // Webhooks carry source and sourceID too.
    let webhook = send(
        server.post("/v1/webhooks", &token).json(&json!({
            "event": "app.*", "uri": receiver.url, "source": "crm", "sourceID": "hook-7",
        })),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (webhook["source"].clone(), webhook["sourceID"].clone()),
        (json!("crm"), json!("hook-7"))
    );
    let webhook_path = format!("/v1/webhooks/{}", webhook["id"].as_str().expect("id"));
    let changed = patched(&server, &token, &webhook_path, json!({"source": null})).await;
    assert_eq!(changed["source"], Value::Null);
    assert_eq!(changed["sourceID"], "hook-7");
    let refused = send(
        server
            .patch(&webhook_path, &token)
            .json(&json!({"source": "x".repeat(31)})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "source");
}

/// A GET without a token, expecting `expected`; the answer's JSON and its Cache-Control.
async fn public_get(server: &TestServer, url: &str, expected: StatusCode) -> (Value, String) {
    let response = server.client.get(url).send().await.expect("request");
    assert_eq!(response.status(), expected, "GET {url}");
    let cache = response
        .headers()
        .get("cache-control")
        .map(|value| value.to_str().expect("text").to_owned())
        .unwrap_or_default();
    (response.json().await.unwrap_or(Value::Null), cache)
}

/// OpenID Connect discovery (Xurrent's): the messages of a webhook that asks for it name their
/// policy's issuer, which serves, without a token, the keys that verify them, before, during
/// and after a rotation. (scripts/webhook-signing-e2e checks the same with PyJWT's PyJWKClient.)
async fn openid_connect_discovery_serves_the_keys_a_message_names(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, json!({"jwt_alg": "es256"})).await;
    let name = policy["name"].as_str().expect("name").to_owned();
    let issuer = format!("{}/accounts/acme/webhook_policies/{name}", server.base_url);
    let configuration = format!("{issuer}/.well-known/openid-configuration");
    // No webhook asks for discovery yet: there is no such issuer.
    public_get(&server, &configuration, StatusCode::NOT_FOUND).await;

    for (body, text) in [
        (
            json!({"event": "app.*", "uri": receiver.url, "openid_connect_discovery": true}),
            "needs a webhook policy",
        ),
        (
            json!({"event": "app.*", "uri": receiver.url, "openid_connect_discovery": true,
                   "webhook_policy_id": create_policy(&server, &token, json!({"jwt_alg": "hs256"})).await["id"]}),
            "shared secret",
        ),
    ] {
        let refused = send(
            server.post("/v1/webhooks", &token).json(&body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_message(&refused, text);
    }
    let webhook = send(
        server.post("/v1/webhooks", &token).json(&json!({
            "event": "app.*", "uri": receiver.url, "webhook_policy_id": policy["id"],
            "openid_connect_discovery": true,
        })),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(webhook["openid_connect_discovery"], true);
    let webhook_id = webhook["id"].as_str().expect("id").to_owned();
    eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{webhook_id}"),
        |webhook| webhook["verified"] == true,
    )
    .await;

    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    let pem = policy["public_key_pem"].as_str().expect("pem");
    let (header, claims) = verified_es256(&messages(&receiver)[0], pem);
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(header["kid"], policy["key_id"]);

    // What a receiver does, given only `iss`: the configuration, then its jwks_uri.
    let (document, cache) = public_get(&server, &configuration, StatusCode::OK).await;
    assert_eq!(cache, "public, max-age=3600");
    assert_eq!(document["issuer"], issuer.as_str());
    assert_eq!(document["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let jwks_uri = document["jwks_uri"].as_str().expect("jwks_uri").to_owned();
    let (jwks, cache) = public_get(&server, &jwks_uri, StatusCode::OK).await;
    assert_eq!(cache, "public, max-age=3600");
    assert_eq!(jwks["keys"], json!([policy["public_jwk"]]));
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert_eq!(jwks["keys"][0]["alg"], "ES256");

    // During a rotation's overlap the next key is listed too; after it, only the next key.
    let next = send(
        server
            .post(&format!("{}/rotate", policy_path(&policy)), &token)
            .json(&json!({"overlap_seconds": 3600})),
        StatusCode::OK,
    )
    .await;
    let (jwks, _) = public_get(&server, &jwks_uri, StatusCode::OK).await;
    assert_eq!(
        jwks["keys"],
        json!([policy["public_jwk"], next["public_jwk"]])
    );
    advance_past_the_lease(&server, &token, 3601).await;
    let (jwks, _) = public_get(&server, &jwks_uri, StatusCode::OK).await;
    assert_eq!(jwks["keys"], json!([next["public_jwk"]]));
    publish(&server, &token, "o-2").await;
    wait_for_messages(&receiver, 2).await;
    let next_pem = next["public_key_pem"].as_str().expect("pem");
    let (header, claims) = verified_es256(&messages(&receiver)[1], next_pem);
    assert_eq!(header["kid"], next["key_id"]);
    assert_eq!(claims["iss"], issuer.as_str());

    // The issuer stays unambiguous and public-key only; it is the account's alone.
    let refused = send(
        server
            .patch(&policy_path(&policy), &token)
            .json(&json!({"jwt_alg": "hs256"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "discovery");
    let refused = send(
        server
            .post("/v1/webhook_policies", &token)
            .json(&json!({"jwt_alg": "es256", "name": name})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "named");
    let elsewhere = format!(
        "{}/accounts/globex/webhook_policies/{name}/.well-known/openid-configuration",
        server.base_url
    );
    public_get(&server, &elsewhere, StatusCode::NOT_FOUND).await;
    // Turned off, the issuer is gone and messages name the account again.
    patched(
        &server,
        &token,
        &format!("/v1/webhooks/{webhook_id}"),
        json!({"openid_connect_discovery": false}),
    )
    .await;
    public_get(&server, &configuration, StatusCode::NOT_FOUND).await;
    publish(&server, &token, "o-3").await;
    wait_for_messages(&receiver, 3).await;
    let (_, claims) = verified_es256(&messages(&receiver)[2], next_pem);
    assert_eq!(claims["iss"], format!("{}/accounts/acme", server.base_url));
}

async fn each_retry_is_signed_afresh_with_the_same_jti(backend: Backend) {
    let Signing {
        server,
        token,
        receiver,
        pem,
        ..
    } = signing(
        backend,
        json!({"name": "A", "jwt_alg": "es256", "jwt_audience": "aud"}),
    )
    .await;
    receiver.script([Reply::Status(503)]);
    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    // The failure is recorded (and the retry scheduled) before the clock moves.
    eventually(&server, &token, "/v1/webhook_deliveries", |deliveries| {
        any_delivery(deliveries, |delivery| {
            delivery["event"] == "app.thing.done" && delivery["attempt"] == 1
        })
    })
    .await;
    server.clock.advance(chrono::Duration::minutes(10));
    server.services.store.deliveries_signal().notify_one();
    wait_for_messages(&receiver, 2).await;
    let tries = messages(&receiver);
    let (_, first) = verified_es256(&tries[0], &pem);
    let (_, second) = verified_es256(&tries[1], &pem);
    assert_eq!(first["jti"], second["jti"]);
    assert!(
        second["iat"].as_i64() >= Some(first["iat"].as_i64().expect("iat") + 600),
        "{first} {second}"
    );
    assert_ne!(tries[0].body, tries[1].body);
}

async fn rotation_signs_with_the_new_key_only_after_the_overlap(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, json!({"name": "A", "jwt_alg": "es256"})).await;
    let id = policy["id"].as_str().expect("id").to_owned();
    let old_pem = policy["public_key_pem"].as_str().expect("pem").to_owned();
    verified_webhook(&server, &token, &receiver, Some(&id)).await;
    let rotate = format!("/v1/webhook_policies/{id}/rotate");

    let next = send(
        server
            .post(&rotate, &token)
            .json(&json!({"overlap_seconds": 3600})),
        StatusCode::OK,
    )
    .await;
    let new_pem = next["public_key_pem"].as_str().expect("pem").to_owned();
    assert_ne!(next["key_id"], policy["key_id"]);
    // During the overlap the old key signs; a second rotation must wait.
    publish(&server, &token, "during").await;
    wait_for_messages(&receiver, 1).await;
    let (header, _) = verified_es256(&messages(&receiver)[0], &old_pem);
    assert_eq!(header["kid"], policy["key_id"]);
    let busy = send(
        server.post(&rotate, &token).json(&json!({})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_message(&busy, "under way");
    let read = send(
        server.get(&format!("/v1/webhook_policies/{id}"), &token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["key_id"], policy["key_id"]);
    assert_eq!(read["keys"].as_array().map(Vec::len), Some(2));
    assert!(!read.to_string().contains("BEGIN PUBLIC KEY"));

    // After the overlap the new key signs, and says so.
    advance_past_the_lease(&server, &token, 3601).await;
    publish(&server, &token, "after").await;
    wait_for_messages(&receiver, 2).await;
    let (header, claims) = verified_es256(&messages(&receiver)[1], &new_pem);
    assert_eq!(header["kid"], next["key_id"]);
    assert_eq!(claims["data"]["object_id"], "after");

    let refused = send(
        server
            .post(&rotate, &token)
            .json(&json!({"overlap_seconds": -1})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "overlap_seconds");
}

async fn a_disabled_policy_holds_deliveries_until_enabled(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, json!({"name": "A", "jwt_alg": "eddsa"})).await;
    let path = policy_path(&policy);
    verified_webhook(&server, &token, &receiver, policy["id"].as_str()).await;
    patched(&server, &token, &path, json!({"disabled": true})).await;
    publish(&server, &token, "held").await;
    let waiting = eventually(&server, &token, "/v1/webhook_deliveries", |deliveries| {
        any_delivery(deliveries, |delivery| {
            delivery["waiting_on"] == "policy_disabled"
        })
    })
    .await;
    let held = waiting
        .as_array()
        .expect("array")
        .iter()
        .find(|delivery| delivery["event"] == "app.thing.done")
        .expect("the delivery");
    assert_eq!(held["status"], "pending");
    assert!(held["next_attempt_at"].is_null());
    assert!(
        held["waiting_reason"]
            .as_str()
            .expect("reason")
            .contains("never sent unsigned")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(messages(&receiver).is_empty(), "sent while disabled");

    patched(&server, &token, &path, json!({"disabled": false})).await;
    wait_for_messages(&receiver, 1).await;
    let sent = &messages(&receiver)[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(sent.json()["jwt"].is_string(), "signed, in Xurrent's body");
}

async fn unlinking_a_disabled_policy_sends_with_standard_webhooks_instead(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, json!({"name": "A", "jwt_alg": "es256"})).await;
    let policy_path = policy_path(&policy);
    let webhook = verified_webhook(&server, &token, &receiver, policy["id"].as_str()).await;
    let path = format!("/v1/webhooks/{}", webhook["id"].as_str().expect("id"));
    patched(&server, &token, &policy_path, json!({"disabled": true})).await;

    // As in Xurrent, nothing more is linked to a disabled policy: not from the webhook's side,
    // not from the policy's.
    let other = Receiver::start().await;
    let refused = send(
        server.post("/v1/webhooks", &token).json(&json!({
            "event": "app.*", "uri": other.url, "webhook_policy_id": policy["id"],
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "is disabled");
    let unlinked = send(
        server
            .post("/v1/webhooks", &token)
            .json(&json!({ "event": "app.*", "uri": other.url })),
        StatusCode::CREATED,
    )
    .await;
    let refused = send(
        server.patch(&policy_path, &token).json(&json!({
            "webhook_ids": [webhook["id"], unlinked["id"]],
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "disabled policy");
    let refused = send(
        server.post("/v1/webhook_policies", &token).json(&json!({
            "name": "B", "jwt_alg": "es256", "disabled": true, "webhook_ids": [unlinked["id"]],
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_message(&refused, "disabled policy");
    // The webhook linked before keeps its link (and other changes) while it waits.
    patched(&server, &token, &path, json!({"description": "held"})).await;

    publish(&server, &token, "held").await;
    eventually(&server, &token, "/v1/webhook_deliveries", |deliveries| {
        any_delivery(deliveries, |delivery| {
            delivery["waiting_on"] == "policy_disabled"
        })
    })
    .await;
    assert!(messages(&receiver).is_empty(), "sent while disabled");
    patched(&server, &token, &path, json!({"webhook_policy_id": null})).await;
    wait_for_messages(&receiver, 1).await;
    let sent = &messages(&receiver)[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let secret =
        WebhookSecret::parse(webhook["signing_secret"].as_str().expect("whsec_")).expect("secret");
    assert!(signed_by(sent, &secret));
}

async fn unsigned_webhooks_carry_standard_webhooks_signatures(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let created = verified_webhook(&server, &token, &receiver, None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let first = WebhookSecret::parse(created["signing_secret"].as_str().expect("whsec_"))
        .expect("a whsec_ secret");
    publish(&server, &token, "o-1").await;
    wait_for_messages(&receiver, 1).await;
    let message = &messages(&receiver)[0];
    assert_eq!(message.header("content-type"), Some("application/json"));
    assert_eq!(
        message.header("webhook-id"),
        message.header("x-gatehouse-delivery")
    );
    assert!(signed_by(message, &first));
    assert!(!signed_by(
        message,
        &WebhookSecret::generate().expect("secret")
    ));
    // The message went as it is: no separate copy of the bytes sent, no signing key.
    let delivery = eventually(
        &server,
        &token,
        &format!(
            "/v1/webhook_deliveries/{}",
            message.header("x-gatehouse-delivery").expect("id")
        ),
        |delivery| delivery["status"] == "succeeded",
    )
    .await;
    assert!(
        delivery["attempts"][0]["request_body"].is_null(),
        "{delivery}"
    );
    assert!(
        delivery["attempts"][0]["signing_key_id"].is_null(),
        "{delivery}"
    );

    // Admins read it again; a rotation signs with both during the overlap.
    let secrets = send(
        server.get(&format!("/v1/webhooks/{id}/signing_secret"), &token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(secrets[0]["signing_secret"], created["signing_secret"]);
    let rotated = send(
        server
            .post(&format!("/v1/webhooks/{id}/signing_secret/rotate"), &token)
            .json(&json!({"overlap_seconds": 600})),
        StatusCode::OK,
    )
    .await;
    let second = WebhookSecret::parse(rotated["signing_secret"].as_str().expect("whsec_"))
        .expect("a whsec_ secret");
    publish(&server, &token, "o-2").await;
    wait_for_messages(&receiver, 2).await;
    let message = &messages(&receiver)[1];
    assert_eq!(
        message
            .header("webhook-signature")
            .expect("signature")
            .split(' ')
            .count(),
        2
    );
    assert!(signed_by(message, &first) && signed_by(message, &second));
    // After the overlap only the new secret signs.
    advance_past_the_lease(&server, &token, 601).await;
    publish(&server, &token, "o-3").await;
    wait_for_messages(&receiver, 3).await;
    let message = &messages(&receiver)[2];
    assert!(signed_by(message, &second) && !signed_by(message, &first));
    // The list of webhooks never shows a secret.
    let listed = send(server.get("/v1/webhooks", &token), StatusCode::OK).await;
    assert!(!listed.to_string().contains("whsec_"), "{listed}");
}

async fn bad_policies_are_refused_and_change_nothing(backend: Backend) {
    let (server, token, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    for (body, expected) in [
        (json!({"name": "A", "jwt_alg": "none"}), "refused"),
        (
            json!({"name": "A", "jwt_alg": "rs1024"}),
            "unknown JWT algorithm",
        ),
        (
            json!({"name": "A", "jwt_alg": "es256", "jwt_claim_expires_in": 0}),
            "1 to 1440 minutes",
        ),
        (
            json!({"name": "A", "jwt_alg": "es256", "jwt_claim_expires_in": 1441}),
            "1 to 1440 minutes",
        ),
        (
            json!({"name": "A", "jwt_alg": "es256", "jwt_claim_expires_in": "24:01"}),
            "1 to 1440 minutes",
        ),
        (
            json!({"name": "A", "jwt_alg": "es256", "jwt_claim_expires_in": "1:5"}),
            "hhh:mm",
        ),
        (json!({"name": "x".repeat(121), "jwt_alg": "es256"}), "name"),
        (
            json!({"name": "A", "jwt_alg": "es256", "webhook_ids": ["01890000-0000-7000-8000-000000000000"]}),
            "no webhook",
        ),
    ] {
        let refused = send(
            server.post("/v1/webhook_policies", &token).json(&body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused.to_string().contains(expected), "{body}: {refused}");
    }
    let listed = send(server.get("/v1/webhook_policies", &token), StatusCode::OK).await;
    assert_eq!(listed, json!([]));

    let policy = create_policy(&server, &token, json!({"name": "A", "jwt_alg": "rs256"})).await;
    let path = policy_path(&policy);
    let change = server
        .patch(&path, &token)
        .json(&json!({"jwt_alg": "es1024", "name": "changed"}));
    let refused = send(change, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_message(&refused, "unknown JWT algorithm");
    let read = send(server.get(&path, &token), StatusCode::OK).await;
    assert_eq!(
        (read["name"].clone(), read["jwt_alg"].clone()),
        (json!("A"), json!("rs256"))
    );
    let refused = send(
        server.post("/v1/webhooks", &token).json(&json!({
            "event": "app.*", "uri": receiver.url,
            "webhook_policy_id": "01890000-0000-7000-8000-000000000000",
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused.to_string().contains("no webhook policy"),
        "{refused}"
    );

    // Linking from the policy side; a linked policy can't be deleted.
    let webhook = verified_webhook(&server, &token, &receiver, None).await;
    let linking = json!({"webhook_ids": [webhook["id"]], "name": "B"});
    let linked = patched(&server, &token, &path, linking).await;
    assert_eq!(linked["webhook_ids"], json!([webhook["id"]]));
    let shown = send(
        server.get(
            &format!("/v1/webhooks/{}", webhook["id"].as_str().expect("id")),
            &token,
        ),
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown["webhook_policy_id"], policy["id"]);
    send(server.delete(&path, &token), StatusCode::CONFLICT).await;
    patched(&server, &token, &path, json!({"webhook_ids": []})).await;
    server
        .delete(&path, &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    send(server.get(&path, &token), StatusCode::NOT_FOUND).await;
}

async fn only_administrators_of_the_account_see_its_policies(backend: Backend) {
    let (server, token, _) = delivering_server(backend, ADMIN_SCOPES).await;
    let policy = create_policy(&server, &token, json!({"name": "A", "jwt_alg": "es256"})).await;
    let path = policy_path(&policy);

    let acme = server.find_account("acme").await;
    // (A specialist can't even hold `webhook_policies:*`: tokens never exceed their owner's
    // roles, which tests/it/api.rs checks for every scope.)

    let other_token = server.globex_admin_token(ADMIN_SCOPES).await;
    for request in [
        server.get(&path, &other_token),
        server
            .patch(&path, &other_token)
            .json(&json!({"disabled": true})),
        server
            .post(&format!("{path}/rotate"), &other_token)
            .json(&json!({})),
    ] {
        send(request, StatusCode::NOT_FOUND).await;
    }
    let listed = send(
        server.get("/v1/webhook_policies", &other_token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed, json!([]));
    let receiver = Receiver::start().await;
    let refused = send(
        server.post("/v1/webhooks", &other_token).json(&json!({
            "event": "app.*", "uri": receiver.url, "webhook_policy_id": policy["id"],
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused.to_string().contains("no webhook policy"),
        "{refused}"
    );

    let read_only = server
        .token(
            &acme,
            &server
                .person(&acme, "ro@example.org", &["account_administrator"])
                .await,
            &["webhook_policies:read", "webhooks:read"],
        )
        .await;
    send(server.get(&path, &read_only), StatusCode::OK).await;
    let disable = server
        .patch(&path, &read_only)
        .json(&json!({"disabled": true}));
    send(disable, StatusCode::FORBIDDEN).await;
}

both_backends!(
    the_public_key_is_shown_once_and_never_the_private_key,
    a_linked_webhook_sends_a_jws_its_public_key_verifies,
    each_retry_is_signed_afresh_with_the_same_jti,
    the_xurrent_format_wraps_the_jws_and_puts_the_message_under_data,
    by_default_a_policy_signs_as_xurrent_does,
    policy_fields_as_xurrent_has_them,
    openid_connect_discovery_serves_the_keys_a_message_names,
    rotation_signs_with_the_new_key_only_after_the_overlap,
    a_disabled_policy_holds_deliveries_until_enabled,
    unlinking_a_disabled_policy_sends_with_standard_webhooks_instead,
    unsigned_webhooks_carry_standard_webhooks_signatures,
    bad_policies_are_refused_and_change_nothing,
    only_administrators_of_the_account_see_its_policies,
);
