//! Upgrades: a database written by a release (`tests/fixtures/upgrade/VERSION`, made by that
//! release's binary through its CLI and API with `scripts/make-upgrade-fixture`: data in every
//! table) is migrated to the current schema on both backends, and everything in it reads back
//! through today's API — with the release's own token and server key.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, Backend, RequestExt, TestServer, TestServerOptions};
use gatehouse::delivery::signing::ServerKey;

const V0_1_0: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade/v0.1.0");

fn names(list: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|item| item[field].as_str().expect("text").to_owned())
        .collect();
    names.sort();
    names
}

async fn a_v0_1_0_database_migrates_and_reads_back(backend: Backend) {
    let folder = Path::new(V0_1_0);
    let (store, database) = common::fixture_store(backend, folder).await;
    let key = ServerKey::load_or_create(&folder.join("secret.key")).expect("the release's key");
    let server =
        TestServer::start_on(store, database, Some(key), TestServerOptions::default()).await;
    let token_file = match backend {
        Backend::Sqlite => "sqlite.token",
        Backend::Postgres => "postgres.token",
    };
    let token = std::fs::read_to_string(folder.join(token_file)).expect("the release's token");
    let token = token.trim();

    let me = server.get("/v1/me", token).json_answer().await;
    assert_eq!(
        me["name"], "Ada Lovelace",
        "the release's token still works"
    );
    // A release's token does not gain the scopes added since; a new one reads the new setting.
    server
        .get("/v1/account", token)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let acme = server.find_account("acme").await;
    let ada = server
        .services
        .store
        .person_by_email(&acme.id, "ada@example.org")
        .await
        .expect("read")
        .expect("Ada");
    let fresh = server.token(&acme, &ada, &["account:read"]).await;
    let account = server.get("/v1/account", &fresh).json_answer().await;
    assert_eq!(
        account["settings"]["delivery_retention_days"], 90,
        "new setting, default"
    );
    let people = server
        .get("/v1/people?per_page=100", token)
        .json_answer()
        .await;
    let people = names(&people, "name");
    for name in ["Ada Lovelace", "Sam Specialist", "Grace Hopper"] {
        assert!(people.contains(&name.to_owned()), "{name} in {people:?}");
    }
    let tokens = server
        .get("/v1/personal_access_tokens?person_id=all", token)
        .json_answer()
        .await;
    // The release's two, and the one made above.
    assert_eq!(
        names(&tokens, "name"),
        ["deploy script", "fixture", "test, 30 days"]
    );

    // SCIM: the users with their extension and manager, the group with its member.
    let grace = server
        .get(
            "/scim/v2/Users?filter=userName%20eq%20%22grace@example.org%22",
            token,
        )
        .json_answer()
        .await;
    let grace = &grace["Resources"][0];
    assert_eq!(grace["name"]["familyName"], "Hopper");
    assert_eq!(grace["phoneNumbers"][0]["value"], "+1 555 0100");
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(grace[enterprise]["employeeNumber"], "701");
    let linus = server
        .get(
            "/scim/v2/Users?filter=userName%20eq%20%22linus@example.org%22",
            token,
        )
        .json_answer()
        .await;
    assert_eq!(linus["Resources"][0]["active"], false);
    assert_eq!(
        linus["Resources"][0][enterprise]["manager"]["value"],
        grace["id"]
    );
    let groups = server.get("/scim/v2/Groups", token).json_answer().await;
    assert_eq!(groups["Resources"][0]["displayName"], "Compilers");
    assert_eq!(groups["Resources"][0]["members"][0]["value"], grace["id"]);
    // Searching still finds them by their folded keys.
    let found = server
        .get("/v1/scim_users?q=GRACE", token)
        .json_answer()
        .await;
    assert_eq!(names(&found, "user_name"), ["grace@example.org"]);

    // Webhooks, their secrets (decrypted with the release's key), policies and their keys.
    let webhooks = server.get("/v1/webhooks", token).json_answer().await;
    assert_eq!(names(&webhooks, "name"), ["Failing", "Invoices", "Signed"]);
    assert!(
        webhooks
            .as_array()
            .expect("array")
            .iter()
            .all(|webhook| webhook["verified"] == true)
    );
    let signed = webhooks
        .as_array()
        .expect("array")
        .iter()
        .find(|webhook| webhook["name"] == "Signed")
        .expect("Signed");
    let secrets = server
        .get(
            &format!(
                "/v1/webhooks/{}/signing_secret",
                signed["id"].as_str().expect("id")
            ),
            token,
        )
        .json_answer()
        .await;
    let secrets = secrets.as_array().expect("array");
    assert_eq!(
        secrets.len(),
        2,
        "rotated, both live during the overlap: {secrets:?}"
    );
    assert!(secrets.iter().all(|secret| {
        secret["signing_secret"]
            .as_str()
            .is_some_and(|text| text.starts_with("whsec_"))
    }));
    let policies = server
        .get("/v1/webhook_policies", token)
        .json_answer()
        .await;
    assert_eq!(names(&policies, "name"), ["Signing"]);
    assert_eq!(
        policies[0]["keys"].as_array().expect("keys").len(),
        2,
        "{policies}"
    );

    // Deliveries with their attempts, the redelivery link, notices.
    let deliveries = server
        .get("/v1/webhook_deliveries?per_page=100", token)
        .json_answer()
        .await;
    let events = names(&deliveries, "event");
    assert_eq!(
        events
            .iter()
            .filter(|event| *event == "app.invoice.paid")
            .count(),
        4
    );
    assert_eq!(
        events
            .iter()
            .filter(|event| *event == "webhook.verify")
            .count(),
        3
    );
    assert!(events.contains(&"app.signed".to_owned()) && events.contains(&"app.fail".to_owned()));
    // The retry the release scheduled moved into the delivery queue (migration 0027) with its
    // time: still pending, still due then, not parked.
    let retrying = deliveries
        .as_array()
        .expect("array")
        .iter()
        .find(|delivery| delivery["event"] == "app.fail")
        .expect("the failing delivery");
    assert_eq!(retrying["status"], "pending", "{retrying}");
    assert!(
        retrying["next_attempt_at"].as_str().is_some() && retrying["waiting_on"].is_null(),
        "{retrying}"
    );
    let redelivery = deliveries
        .as_array()
        .expect("array")
        .iter()
        .find(|delivery| !delivery["redelivery_of_id"].is_null())
        .expect("the redelivery");
    let original = server
        .get(
            &format!(
                "/v1/webhook_deliveries/{}",
                redelivery["redelivery_of_id"].as_str().expect("id")
            ),
            token,
        )
        .json_answer()
        .await;
    assert_eq!(original["redelivered_by_id"], redelivery["id"]);
    assert_eq!(original["status"], "succeeded");
    assert_eq!(
        original["attempts"][0]["response_status"], 200,
        "{original}"
    );
    let notices = server
        .get("/v1/webhook_notifications", token)
        .json_answer()
        .await;
    assert!(!notices.as_array().expect("array").is_empty());
    assert_eq!(notices[0]["kind"], "exception");

    // An idempotency key the release stored still answers its first request.
    let before = server.event_names("acme", "app.invoice").await.len();
    server
        .post("/v1/events", token)
        .header("Idempotency-Key", "invoice-0")
        .json(&json!({ "event": "app.invoice.paid", "object_id": "inv-0", "payload": { "number": 0 } }))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        server.event_names("acme", "app.invoice").await.len(),
        before
    );

    // The upgraded database takes new writes.
    server
        .post("/v1/people", token)
        .json(&json!({ "name": "Alan Turing", "primary_email": "alan@example.org", "roles": ["specialist"] }))
        .expect_status(StatusCode::CREATED)
        .await;
}

both_backends!(a_v0_1_0_database_migrates_and_reads_back);
