//! The account's SCIM provisioning credential (`/v1/scim_token`) end to end on both backends:
//! an account administrator creates, shows, rotates and revokes it; it provisions through
//! `/scim/v2` for the whole account and is refused everywhere else.

use chrono::Duration;
use gatehouse::service::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common;
use crate::common::{Backend, RequestExt, TestServer, header, json_body, provisioning};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A server whose `acme` account administrator holds a token with `account:*` (for 90 days,
/// as the overlaps are up to 30), and the create response of the credential it made.
async fn with_credential(backend: Backend) -> (TestServer, String, Value) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let person = server
        .person(&acme, "admin@example.org", &["account_administrator"])
        .await;
    let admin = server
        .token_for_days(&acme, &person, &["account:read", "account:write"], 90)
        .await;
    let response = server
        .post("/v1/scim_token", &admin)
        .expect_status(StatusCode::CREATED)
        .await;
    let created = json_body(response).await;
    (server, admin, created)
}

fn secret_of(issued: &Value) -> String {
    issued["secret"].as_str().expect("secret").to_owned()
}

/// Whether `secret` lists `/scim/v2/Users` (200) or is refused (401).
async fn scim_status(server: &TestServer, secret: &str) -> StatusCode {
    server
        .get("/scim/v2/Users", secret)
        .send()
        .await
        .expect("response")
        .status()
}

async fn create_show_use_and_revoke(backend: Backend) {
    let (server, admin, created) = with_credential(backend).await;
    let secret = secret_of(&created);
    assert!(
        secret.starts_with("gth_scim_") && secret.len() == 45,
        "{secret}"
    );
    assert_eq!(created["prefix"], "gth_scim_");
    assert_eq!(created["created_by"], "admin");
    assert_eq!(created["last_used_at"], Value::Null);
    assert_eq!(created["previous"], Value::Null);

    // Shown once: reading it never shows the secret.
    let response = server
        .get("/v1/scim_token", &admin)
        .expect_status(StatusCode::OK)
        .await;
    let text = response.text().await.expect("body");
    assert!(!text.contains(&secret[9..]), "{text}");
    let shown: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(shown["id"], created["id"]);
    assert_eq!(shown.get("secret"), None);

    // One per account.
    let response = server
        .post("/v1/scim_token", &admin)
        .expect_status(StatusCode::CONFLICT)
        .await;
    assert!(
        json_body(response).await["message"]
            .as_str()
            .expect("message")
            .contains("rotate it")
    );

    assert_eq!(scim_status(&server, &secret).await, StatusCode::OK);
    let response = server
        .get("/v1/scim_token", &admin)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(
        json_body(response).await["last_used_at"],
        json!(server.clock.now()),
        "its use is recorded"
    );

    server
        .delete("/v1/scim_token", &admin)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    assert_eq!(
        scim_status(&server, &secret).await,
        StatusCode::UNAUTHORIZED
    );
    server
        .get("/v1/scim_token", &admin)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    server
        .delete("/v1/scim_token", &admin)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(
        server.event_names("acme", "scim_token.").await,
        ["scim_token.create", "scim_token.revoke"]
    );
    // Revoked, a new one can be made.
    server
        .post("/v1/scim_token", &admin)
        .expect_status(StatusCode::CREATED)
        .await;
}

async fn a_rotated_out_secret_works_for_the_overlap(backend: Backend) {
    let (server, admin, created) = with_credential(backend).await;
    let first = secret_of(&created);
    let response = server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({}))
        .expect_status(StatusCode::OK)
        .await;
    let rotated = json_body(response).await;
    let second = secret_of(&rotated);
    assert_ne!(first, second);
    assert_eq!(rotated["previous"]["id"], created["id"]);
    assert_eq!(
        rotated["previous"]["expires_at"],
        json!(server.clock.now() + Duration::days(30)),
        "30 days by default"
    );
    assert_eq!(scim_status(&server, &first).await, StatusCode::OK);
    assert_eq!(scim_status(&server, &second).await, StatusCode::OK);

    server.clock.advance(Duration::days(30));
    assert_eq!(scim_status(&server, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(scim_status(&server, &second).await, StatusCode::OK);
    let response = server
        .get("/v1/scim_token", &admin)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["previous"], Value::Null);

    // A shorter overlap; a rotation during an overlap stops the previous secret at once.
    let response = server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({ "overlap_days": 2 }))
        .expect_status(StatusCode::OK)
        .await;
    let third = secret_of(&json_body(response).await);
    let response = server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({ "overlap_days": 1 }))
        .expect_status(StatusCode::OK)
        .await;
    let fourth = secret_of(&json_body(response).await);
    assert_eq!(
        scim_status(&server, &second).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(scim_status(&server, &third).await, StatusCode::OK);
    assert_eq!(scim_status(&server, &fourth).await, StatusCode::OK);

    // No overlap: the replaced secret stops at once.
    let response = server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({ "overlap_days": 0 }))
        .expect_status(StatusCode::OK)
        .await;
    let fifth = json_body(response).await;
    assert_eq!(fifth["previous"], Value::Null);
    assert_eq!(
        scim_status(&server, &fourth).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(scim_status(&server, &third).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scim_status(&server, &secret_of(&fifth)).await,
        StatusCode::OK
    );

    for bad in [json!({ "overlap_days": 31 }), json!({ "overlap": 3 })] {
        server
            .post("/v1/scim_token/rotate", &admin)
            .json(&bad)
            .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    assert_eq!(
        scim_status(&server, &secret_of(&fifth)).await,
        StatusCode::OK,
        "a refused rotation changes nothing"
    );

    // Revoking stops every secret, the previous one included.
    let response = server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({}))
        .expect_status(StatusCode::OK)
        .await;
    let sixth = secret_of(&json_body(response).await);
    server
        .delete("/v1/scim_token", &admin)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    for secret in [secret_of(&fifth), sixth] {
        assert_eq!(
            scim_status(&server, &secret).await,
            StatusCode::UNAUTHORIZED
        );
    }
    server
        .post("/v1/scim_token/rotate", &admin)
        .json(&json!({}))
        .expect_status(StatusCode::NOT_FOUND)
        .await;
}

async fn the_credential_provisions_everyone_and_works_on_scim_only(backend: Backend) {
    let (server, admin, created) = with_credential(backend).await;
    let secret = secret_of(&created);

    // Authoritative for every person: it takes over and deactivates the account
    // administrator, which a directory administrator's token may not.
    let user = json!({
        "schemas": [USER],
        "userName": "admin@example.org",
        "emails": [{ "value": "admin@example.org", "primary": true }],
        "active": true
    });
    let response = server
        .post("/scim/v2/Users", &secret)
        .json(&user)
        .expect_status(StatusCode::CREATED)
        .await;
    let id = json_body(response).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    server
        .patch(&format!("/scim/v2/Users/{id}"), &secret)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": "active", "value": false }]
        }))
        .expect_status(StatusCode::OK)
        .await;
    server
        .get("/v1/scim_token", &admin)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    let acme = gatehouse::domain::AccountId::parse("acme").expect("slug");
    let events = server
        .services
        .store
        .events_after(&acme, 0, 100)
        .await
        .expect("events");
    let created_event = events
        .iter()
        .find(|event| event.name == "scim_user.create")
        .expect("scim_user.create");
    assert_eq!(created_event.actor, None, "no person acted");

    // SCIM only: REST and the console refuse it, saying why.
    for path in ["/v1/me", "/v1/people", "/v1/scim_token"] {
        let response = server
            .get(path, &secret)
            .expect_status(StatusCode::UNAUTHORIZED)
            .await;
        let challenge = header(&response, "www-authenticate");
        assert!(challenge.contains("/scim/v2 alone"), "{challenge}");
    }
    assert!(
        server.services.open_console_session(&secret).await.is_err(),
        "no console session"
    );

    // `/Me` aliases a person's own User; the credential is no one's (RFC 7644 §3.11).
    let response = server
        .get("/scim/v2/Me", &secret)
        .expect_status(StatusCode::NOT_IMPLEMENTED)
        .await;
    assert_eq!(json_body(response).await["status"], "501");

    // Another account's name in the request: refused like any credential of another account.
    server.account("globex").await;
    server
        .get("/scim/v2/Users", &secret)
        .header("X-Gatehouse-Account", "globex")
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    // A typo is caught by the checksum, before any lookup.
    let mut typo = secret.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let response = server
        .get("/scim/v2/Users", &String::from_utf8(typo).expect("ASCII"))
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert!(
        json_body(response).await["detail"]
            .as_str()
            .expect("detail")
            .contains("checksum")
    );
}

async fn only_account_administrators_manage_it(backend: Backend) {
    let (server, directory_admin) = provisioning(
        backend,
        "directory_administrator",
        &["account:read", "scim:write"],
    )
    .await;
    server
        .post("/v1/scim_token", &directory_admin)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    server
        .post("/v1/scim_token/rotate", &directory_admin)
        .json(&json!({}))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    server
        .delete("/v1/scim_token", &directory_admin)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    // Reading it is for administrators, even with `account:read`.
    let acme = server
        .services
        .account(&gatehouse::domain::AccountId::parse("acme").expect("slug"))
        .await
        .expect("acme");
    let sam = server
        .person(&acme, "sam@example.org", &["specialist"])
        .await;
    let specialist = server.token(&acme, &sam, &["account:read"]).await;
    server
        .get("/v1/scim_token", &specialist)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    // People's tokens keep provisioning within their owner's rank.
    server
        .get("/scim/v2/Users", &directory_admin)
        .expect_status(StatusCode::OK)
        .await;
}

/// Secrets that stopped working are forgotten by the purge 31 days later; the current secret
/// and one that stopped recently stay.
async fn the_purge_forgets_secrets_31_days_after_they_stopped(backend: Backend) {
    use gatehouse::service::{AuthFailure, Pacing, PurgeScope, ServiceError};
    let (server, admin, created) = with_credential(backend).await;
    let rotate = || async {
        let response = server
            .post("/v1/scim_token/rotate", &admin)
            .json(&json!({"overlap_days": 0}))
            .expect_status(StatusCode::OK)
            .await;
        secret_of(&json_body(response).await)
    };
    // Why a stopped secret is refused: `Revoked` while it is kept, `Unknown` once forgotten.
    let refusal = |secret: String| {
        let services = server.services.clone();
        async move {
            match services.authenticate_scim(&secret, None).await {
                Err(ServiceError::Unauthenticated(failure)) => failure,
                other => panic!("a stopped secret was not refused: {other:?}"),
            }
        }
    };
    let purge = || async {
        server
            .services
            .purge(&PurgeScope::default(), Pacing::AT_ONCE)
            .await
            .expect("purge")
            .provisioning_secrets
    };
    let first = secret_of(&created);
    let second = rotate().await; // the first stops now
    server.clock.advance(Duration::days(32));
    let current = rotate().await; // the second stops 32 days later
    assert_eq!(refusal(first.clone()).await, AuthFailure::Revoked);
    assert_eq!(purge().await, 1);
    assert_eq!(refusal(first).await, AuthFailure::Unknown, "forgotten");
    assert_eq!(
        refusal(second.clone()).await,
        AuthFailure::Revoked,
        "young: kept"
    );
    assert_eq!(scim_status(&server, &current).await, StatusCode::OK);

    server.clock.advance(Duration::days(30));
    assert_eq!(purge().await, 0, "31 days are not over for the second");
    server.clock.advance(Duration::days(2));
    assert_eq!(purge().await, 1);
    assert_eq!(refusal(second).await, AuthFailure::Unknown);
    assert_eq!(
        scim_status(&server, &current).await,
        StatusCode::OK,
        "the current secret is never purged"
    );
}

both_backends!(
    the_purge_forgets_secrets_31_days_after_they_stopped,
    create_show_use_and_revoke,
    a_rotated_out_secret_works_for_the_overlap,
    the_credential_provisions_everyone_and_works_on_scim_only,
    only_account_administrators_manage_it,
);

/// Two nodes on one PostgreSQL database: a secret that stops through one (a rotation without
/// overlap) is refused by the other at once, though the other had it cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stopped_secret_is_refused_by_the_other_node_at_once() {
    if !crate::common::postgres_reachable().await {
        return;
    }
    let (server, admin, created) = with_credential(Backend::Postgres).await;
    let other_node = server.another_node(std::time::Duration::from_secs(3_600));
    other_node.follow_credential_changes();
    // The listener connects in the background: a change made before it listens goes unheard,
    // so rotate again (each rotation without overlap stops the secret before) until one is.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut secret = secret_of(&created);
    'rotations: loop {
        other_node
            .authenticate_scim(&secret, None)
            .await
            .expect("the current secret works, and is now cached on the other node");
        let response = server
            .post("/v1/scim_token/rotate", &admin)
            .json(&json!({"overlap_days": 0}))
            .expect_status(StatusCode::OK)
            .await;
        let stopped = std::mem::replace(&mut secret, secret_of(&json_body(response).await));
        for _ in 0..25 {
            if other_node.authenticate_scim(&stopped, None).await.is_err() {
                break 'rotations;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other node still accepts a secret that stopped"
        );
    }
}

/// A revocation nothing signals (`gatehouse scim-token revoke` on the SQLite file of a running
/// server) is seen by the server within its cache's time-to-live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_unsignalled_revocation_is_seen_within_the_cache_ttl() {
    let (server, _, created) = with_credential(Backend::Sqlite).await;
    let secret = secret_of(&created);
    let ttl = std::time::Duration::from_millis(300);
    let running_server = server.another_node(ttl);
    running_server
        .authenticate_scim(&secret, None)
        .await
        .expect("cached");
    let acme = gatehouse::domain::AccountId::parse("acme").expect("account id");
    server
        .services
        .revoke_provisioning_credential(&acme, None)
        .await
        .expect("revoke");
    common::wait_until(
        ttl + std::time::Duration::from_millis(200),
        "a revoked secret was served past the TTL",
        || async {
            running_server
                .authenticate_scim(&secret, None)
                .await
                .is_err()
        },
    )
    .await;
}
