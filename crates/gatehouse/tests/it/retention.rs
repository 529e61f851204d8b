//! Retention on both backends: the account's `delivery_retention_days` through `/v1/account`, and
//! the purge — what goes (finished deliveries and their attempts, events none of whose
//! deliveries are left, old notices, ended console sessions) and what stays (pending
//! deliveries however old, everything younger, the event a young redelivery still carries).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, RequestExt, TestServer, delivering_server, eventually, json_body};
use crate::webhooks::{ADMIN_SCOPES, advance, publish, verified_webhook};
use gatehouse::domain::AccountId;
use gatehouse::service::{Clock, Pacing, PurgeScope};

async fn account_settings_are_read_by_anyone_and_changed_by_account_administrators(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let owner = server
        .person(&acme, "owner@example.org", &["account_administrator"])
        .await;
    let owner_token = server
        .token(&acme, &owner, &["account:read", "account:write"])
        .await;
    let shown = server.get("/v1/account", &owner_token).json_answer().await;
    assert_eq!(shown["id"], "acme");
    assert_eq!(shown["settings"]["delivery_retention_days"], 90);
    assert_eq!(shown["settings"]["scim_patch_response"], "resource");

    let changed = server
        .patch("/v1/account", &owner_token)
        .json(&json!({ "settings": { "delivery_retention_days": 30 } }))
        .json_answer()
        .await;
    assert_eq!(changed["settings"]["delivery_retention_days"], 30);
    assert_eq!(
        changed["name"], shown["name"],
        "what the request leaves out stays"
    );
    for (days, status) in [(0, 422), (3_651, 422), (-5, 422), (3_650, 200), (1, 200)] {
        let response = server
            .patch("/v1/account", &owner_token)
            .json(&json!({ "settings": { "delivery_retention_days": days } }))
            .send()
            .await
            .expect("PATCH");
        assert_eq!(response.status().as_u16(), status, "{days} days");
        if status == 422 {
            let body = json_body(response).await;
            assert!(
                body.to_string().contains("from 1 to 3650"),
                "{days}: {body}"
            );
        }
    }
    server
        .patch("/v1/account", &owner_token)
        .json(&json!({ "settings": { "retention": 5 } }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let kept = server.get("/v1/account", &owner_token).json_answer().await;
    assert_eq!(
        kept["settings"]["delivery_retention_days"], 1,
        "refusals change nothing"
    );

    // A directory administrator and a specialist read the account; neither may hold a token
    // that changes it, and without the scope a request is refused.
    for (email, role) in [
        ("dora@example.org", "directory_administrator"),
        ("sam@example.org", "specialist"),
    ] {
        let person = server.person(&acme, email, &[role]).await;
        let wide = gatehouse::service::NewToken {
            name: "settings".to_owned(),
            description: None,
            scopes: gatehouse::auth::ScopeSet::parse(["account:write"]).expect("scopes"),
            expiry: gatehouse::service::TokenExpiry::InDays(30),
        };
        let refused = server
            .services
            .create_token(&acme, None, &person, wide)
            .await;
        assert!(
            refused
                .err()
                .is_some_and(|error| error.to_string().contains("account:write")),
            "{role} may not hold account:write"
        );
        let token = server.token(&acme, &person, &["account:read"]).await;
        let read = server.get("/v1/account", &token).json_answer().await;
        assert_eq!(read["settings"]["delivery_retention_days"], 1);
        let refused = server
            .patch("/v1/account", &token)
            .json(&json!({ "settings": { "delivery_retention_days": 400 } }))
            .expect_status(StatusCode::FORBIDDEN)
            .await;
        assert!(
            refused.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .contains("account:write"),
            "{role}"
        );
    }
    // An account administrator's token without the scope reads nothing.
    let narrow = server.token(&acme, &owner, &["people:read"]).await;
    server
        .get("/v1/account", &narrow)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
}

async fn deliveries(server: &TestServer, token: &str, query: &str) -> Vec<Value> {
    server
        .get(
            &format!("/v1/webhook_deliveries?per_page=100{query}"),
            token,
        )
        .json_answer()
        .await
        .as_array()
        .expect("array")
        .clone()
}

/// A server that delivers, a receiver, and an administrator's token that outlives a move of
/// the clock by months.
async fn delivering_for_a_year(backend: Backend) -> (TestServer, String, Receiver) {
    let (server, _, receiver) = delivering_server(backend, ADMIN_SCOPES).await;
    let acme = server.find_account("acme").await;
    let keeper = server
        .person(&acme, "keeper@example.org", &["account_administrator"])
        .await;
    let token = server
        .token_for_days(&acme, &keeper, ADMIN_SCOPES, 365)
        .await;
    (server, token, receiver)
}

async fn the_purge_removes_what_is_old_and_finished_and_nothing_else(backend: Backend) {
    let (server, token, receiver) = delivering_for_a_year(backend).await;
    let ok = verified_webhook(&server, &token, &receiver, "app.ok.*").await;
    let ok_id = ok["id"].as_str().expect("id").to_owned();
    receiver.answer_event("app.fail", Reply::Status(500));
    verified_webhook(&server, &token, &receiver, "app.fail").await;
    let parked = verified_webhook(&server, &token, &receiver, "app.parked").await;
    let parked_id = parked["id"].as_str().expect("id").to_owned();
    receiver.answer_event("app.parked", Reply::Status(500));
    publish(&server, &token, "app.ok.a", "a").await;
    publish(&server, &token, "app.fail", "f").await;
    publish(&server, &token, "app.parked", "p").await;
    publish(&server, &token, "app.none", "n").await;
    // The parked delivery: it failed once, then its webhook was disabled, so it waits, parked,
    // for as long as that takes.
    eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.parked",
        |list| list[0]["attempt"] == 1 && list[0]["status"] == "pending",
    )
    .await;
    server
        .patch(&format!("/v1/webhooks/{parked_id}"), &token)
        .json(&json!({ "disabled": true }))
        .expect_status(StatusCode::OK)
        .await;
    let finished = eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.ok.a",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let original = finished[0]["id"].as_str().expect("id").to_owned();
    let notices = eventually(&server, &token, "/v1/webhook_notifications", |list| {
        list.as_array().is_some_and(|list| !list.is_empty())
    })
    .await;
    let old_notice = notices[0]["id"].clone();

    // 91 days on (the default keeps 90): a redelivery of the old delivery and a new event.
    advance(&server, 91 * 24 * 3600);
    let cutoff = server.clock.now() - chrono::Duration::days(90);
    let redelivery = server
        .post(
            &format!("/v1/webhook_deliveries/{original}/redeliver"),
            &token,
        )
        .json_answer()
        .await;
    publish(&server, &token, "app.ok.c", "c").await;
    eventually(
        &server,
        &token,
        &format!("/v1/webhooks/{ok_id}/deliveries"),
        |list| {
            list.as_array().is_some_and(|list| {
                list.iter()
                    .filter(|delivery| delivery["status"] == "succeeded")
                    .count()
                    >= 3
            })
        },
    )
    .await;
    let before = deliveries(&server, &token, "").await;

    let report = server
        .services
        .purge(&PurgeScope::default(), Pacing::AT_ONCE)
        .await
        .expect("purge");
    assert!(
        report.deliveries >= 2,
        "the old delivery and the first webhook's verification (the others share its verified \
         URI, so they needed none): {report:?}"
    );
    assert!(
        before
            .iter()
            .any(|delivery| delivery["event"] == "app.parked")
    );
    assert!(report.attempts >= report.deliveries, "{report:?}");
    assert!(report.events >= 1, "{report:?}");
    assert!(report.notifications >= 1, "{report:?}");

    let after = deliveries(&server, &token, "").await;
    for delivery in &before {
        let created: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(delivery["created_at"].clone()).expect("created_at");
        let kept = after.iter().any(|other| other["id"] == delivery["id"]);
        let finished = delivery["status"] != "pending";
        assert_eq!(
            kept,
            created >= cutoff || !finished,
            "kept only if young or pending: {delivery}"
        );
    }
    server
        .get(&format!("/v1/webhook_deliveries/{original}"), &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    let redelivery = server
        .get(
            &format!(
                "/v1/webhook_deliveries/{}",
                redelivery["id"].as_str().expect("id")
            ),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(
        redelivery["redelivery_of_id"],
        Value::Null,
        "the original is gone"
    );
    assert_eq!(redelivery["status"], "succeeded");
    // A pending delivery stays however old: one parked for a disabled webhook. (The failing one
    // is kept or gone as it ended: failed or succeeded, it is old and finished.)
    let parked = deliveries(&server, &token, "&event=app.parked").await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0]["status"], "pending");
    let failing_left = !deliveries(&server, &token, "&event=app.fail")
        .await
        .is_empty();
    // Events: the one no webhook heard went, and those whose deliveries all went; the one a
    // young redelivery carries, the one a pending delivery carries and the young one stay.
    let mut events = server.event_names("acme", "app.").await;
    events.sort();
    let mut expected = vec!["app.ok.a", "app.ok.c", "app.parked"];
    if failing_left {
        expected.insert(0, "app.fail");
    }
    assert_eq!(events, expected);
    let notices = server
        .get("/v1/webhook_notifications?per_page=100", &token)
        .json_answer()
        .await;
    let notices = notices.as_array().expect("array");
    assert!(notices.iter().all(|notice| notice["id"] != old_notice));
    assert!(notices.iter().all(|notice| {
        serde_json::from_value::<chrono::DateTime<chrono::Utc>>(notice["created_at"].clone())
            .expect("created_at")
            >= cutoff
    }));

    // A second purge finds nothing more; the service keeps delivering.
    let again = server
        .services
        .purge(&PurgeScope::default(), Pacing::AT_ONCE)
        .await
        .expect("purge");
    assert_eq!((again.deliveries, again.events), (0, 0), "{again:?}");
    publish(&server, &token, "app.ok.d", "d").await;
    receiver
        .wait_for(1, |message| message.event() == "app.ok.d")
        .await;
}

async fn a_shorter_retention_and_an_explicit_cutoff_purge_more(backend: Backend) {
    let (server, token, receiver) = delivering_for_a_year(backend).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    publish(&server, &token, "app.one", "1").await;
    eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.one",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let acme = AccountId::parse("acme").expect("slug");
    let globex = server.account("globex").await;

    // Ten days on: the default 90 keeps everything; a retention of 7 days does not.
    advance(&server, 10 * 24 * 3600);
    let kept = server
        .services
        .purge(&PurgeScope::default(), Pacing::AT_ONCE)
        .await
        .expect("purge");
    assert_eq!(kept.deliveries, 0);
    server
        .services
        .update_account(
            &acme,
            gatehouse::service::AccountChanges {
                delivery_retention_days: Some(7),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    // Only the named account is looked at.
    let other = PurgeScope {
        account: Some(globex.id.clone()),
        before: None,
    };
    assert_eq!(
        server
            .services
            .purge(&other, Pacing::AT_ONCE)
            .await
            .expect("purge")
            .deliveries,
        0
    );
    let purged = server
        .services
        .purge(
            &PurgeScope {
                account: Some(acme.clone()),
                before: None,
            },
            Pacing::AT_ONCE,
        )
        .await
        .expect("purge");
    assert_eq!(
        purged.deliveries, 2,
        "the verification and app.one: {purged:?}"
    );
    assert!(deliveries(&server, &token, "").await.is_empty());

    // `before` overrides the retention: everything finished before it goes.
    publish(&server, &token, "app.two", "2").await;
    eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.two",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let explicit = PurgeScope {
        account: None,
        before: Some(server.clock.now() + chrono::Duration::seconds(1)),
    };
    let purged = server
        .services
        .purge(&explicit, Pacing::AT_ONCE)
        .await
        .expect("purge");
    assert_eq!(purged.deliveries, 1);
    assert!(server.event_names("acme", "app.").await.is_empty());
}

/// What `serve` runs: the purge by itself, now and then every interval, until told to stop.
async fn the_server_purges_by_itself(backend: Backend) {
    let (server, token, receiver) = delivering_for_a_year(backend).await;
    verified_webhook(&server, &token, &receiver, "app.*").await;
    publish(&server, &token, "app.old", "1").await;
    let old = eventually(
        &server,
        &token,
        "/v1/webhook_deliveries?event=app.old",
        |list| list[0]["status"] == "succeeded",
    )
    .await;
    let old = format!(
        "/v1/webhook_deliveries/{}",
        old[0]["id"].as_str().expect("id")
    );
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let purging = tokio::spawn(gatehouse::service::run_retention(
        server.services.clone(),
        std::time::Duration::from_millis(20),
        None,
        shutdown,
    ));
    // Young: the passes so far keep it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    server.get(&old, &token).expect_status(StatusCode::OK).await;
    // 91 days on, a later pass takes it, without being asked.
    advance(&server, 91 * 24 * 3600);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.get(&old, &token).send().await.expect("GET").status() != StatusCode::NOT_FOUND {
        assert!(tokio::time::Instant::now() < deadline, "never purged");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.send(true).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(5), purging)
        .await
        .expect("stops when told")
        .expect("task");
}

both_backends!(
    the_server_purges_by_itself,
    account_settings_are_read_by_anyone_and_changed_by_account_administrators,
    the_purge_removes_what_is_old_and_finished_and_nothing_else,
    a_shorter_retention_and_an_explicit_cutoff_purge_more,
);

/// A SQLite file made before retention (no auto-vacuum) is converted by `migrate`, and a purge
/// gives the freed pages back to the file system.
#[tokio::test]
async fn sqlite_gives_purged_space_back_to_the_file_system() {
    use gatehouse::store::{DatabaseStore, SqliteStore};
    async fn pragma(url: &str, name: &str) -> i64 {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open");
        let (value,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(&pool)
            .await
            .expect("pragma");
        pool.close().await;
        value
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", folder.path().join("old.db").display());
    crate::common::execute_on_sqlite(
        &format!("{url}?mode=rwc"),
        "PRAGMA auto_vacuum = NONE; CREATE TABLE made_before (id INTEGER)",
    )
    .await;
    assert_eq!(
        pragma(&url, "auto_vacuum").await,
        0,
        "made without auto-vacuum"
    );
    let store = SqliteStore::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    drop(store);
    assert_eq!(
        pragma(&url, "auto_vacuum").await,
        2,
        "incremental after migrate"
    );

    let server = TestServer::start(Backend::Sqlite).await;
    let account = server.account("acme").await;
    let admin = server
        .person(&account, "admin@example.org", &["account_administrator"])
        .await;
    let token = server.token(&account, &admin, &["events:write"]).await;
    let payload = json!({ "blob": "x".repeat(4_000) });
    for index in 0..600 {
        server
            .post("/v1/events", &token)
            .json(
                &json!({ "event": "app.big", "object_id": index.to_string(), "payload": payload }),
            )
            .expect_status(StatusCode::ACCEPTED)
            .await;
    }
    let url = server.database().sqlite_url().expect("SQLite");
    assert_eq!(
        pragma(&url, "auto_vacuum").await,
        2,
        "a new file is incremental from the start"
    );
    let pages_before = pragma(&url, "page_count").await;
    advance(&server, 91 * 24 * 3600);
    let report = server
        .services
        .purge(&PurgeScope::default(), Pacing::AT_ONCE)
        .await
        .expect("purge");
    assert!(report.events >= 600, "{report:?}");
    assert!(
        report.pages_reclaimed > 400,
        "600 events of 4 KB: {report:?}"
    );
    assert!(pragma(&url, "freelist_count").await < 50);
    let pages_after = pragma(&url, "page_count").await;
    assert!(
        pages_after + 400 < pages_before,
        "the file shrinks: {pages_before} pages before, {pages_after} after"
    );
}

/// PostgreSQL is backed up with `pg_dump`: `gatehouse backup` says so and writes nothing.
#[tokio::test]
async fn postgres_backups_are_pg_dumps_job() {
    if !crate::common::postgres_reachable().await {
        return;
    }
    let (store, _database) = crate::common::store(Backend::Postgres).await;
    let folder = tempfile::tempdir().expect("temp dir");
    let target = folder.path().join("copy.db");
    let refused = store.back_up(&target).await.expect_err("refused");
    assert!(refused.to_string().contains("pg_dump"), "{refused}");
    assert!(!target.exists());
}
