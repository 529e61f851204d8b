//! REST API v1 black-box tests: the real router on 127.0.0.1, over SQLite and PostgreSQL.

use crate::common;
use crate::common::{Backend, RequestExt, TestServer, TestServerOptions, header, json_body, texts};
use chrono::Duration;
use gatehouse::domain::NewEvent;
use gatehouse::service::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACCOUNT_HEADER: &str = "X-Gatehouse-Account";

async fn me_returns_the_token_owner(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (_, ada, token) = server
        .acme_member("ada@example.org", &["specialist"], &["people:read"])
        .await;
    let response = server
        .get("/v1/me", &token)
        .header(ACCOUNT_HEADER, "acme")
        .expect_status(StatusCode::OK)
        .await;
    let body = json_body(response).await;
    assert_eq!(body["id"], json!(ada.id));
    assert_eq!(body["primary_email"], "ada@example.org");
    assert_eq!(body["roles"], json!(["specialist"]));
    // Without the account header the token's own account is used.
    assert_eq!(
        server.get("/v1/me?fields=name", &token).json_answer().await,
        json!({ "id": ada.id, "name": "ada" })
    );
}

async fn missing_malformed_and_unknown_tokens_get_rfc6750_challenges(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (_, _, token) = server
        .acme_member("ada@example.org", &["specialist"], &["people:read"])
        .await;

    let response = server
        .client
        .get(server.url("/v1/me"))
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        header(&response, "www-authenticate"),
        r#"Bearer realm="gatehouse""#,
        "no error code without credentials"
    );

    let mut typo = token.clone();
    let last = typo.pop().expect("non-empty");
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let unknown = gatehouse::auth::TokenSecret::generate();
    for (bad, description) in [
        ("not-a-token", "malformed"),
        (typo.as_str(), "malformed"),
        (unknown.expose(), "not valid"),
    ] {
        let response = server
            .get("/v1/me", bad)
            .expect_status_for(StatusCode::UNAUTHORIZED, description)
            .await;
        let challenge = header(&response, "www-authenticate");
        assert!(
            challenge.starts_with(r#"Bearer realm="gatehouse", error="invalid_token""#),
            "{challenge}"
        );
        assert!(challenge.contains(description), "{challenge}");
        let body = json_body(response).await;
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| !message.contains(bad)),
            "{body}"
        );
    }
    server
        .client
        .get(server.url("/v1/me"))
        .header("authorization", format!("Basic {token}"))
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
}

async fn expired_and_revoked_tokens_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (acme, ada, short_lived) = server
        .acme_member(
            "ada@example.org",
            &["specialist"],
            &["people:read", "personal_access_tokens:write"],
        )
        .await;
    let to_revoke = server.token(&acme, &ada, &["people:read"]).await;

    let listed = server
        .get("/v1/personal_access_tokens", &short_lived)
        .json_answer()
        .await;
    let revoke_id = listed.as_array().expect("array")[1]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let response = server
        .post(
            &format!("/v1/personal_access_tokens/{revoke_id}/revoke"),
            &short_lived,
        )
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["status"], "revoked");
    let response = server
        .get("/v1/me", &to_revoke)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert!(header(&response, "www-authenticate").contains("revoked"));

    server.clock.advance(Duration::days(30));
    let response = server
        .get("/v1/me", &short_lived)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert!(header(&response, "www-authenticate").contains("expired"));
}

async fn scopes_deny_by_default_and_name_the_missing_scope(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (acme, admin, nothing) = server
        .acme_member("admin@example.org", &["account_administrator"], &[])
        .await;
    let response = server
        .get("/v1/me", &nothing)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    assert_eq!(
        header(&response, "www-authenticate"),
        r#"Bearer realm="gatehouse", error="insufficient_scope", scope="people:read", error_description="this token lacks the people:read scope""#
    );
    let reader = server.token(&acme, &admin, &["people:read"]).await;
    let response = server
        .post("/v1/people", &reader)
        .json(&json!({ "name": "Bob", "primary_email": "bob@example.org" }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    assert!(header(&response, "www-authenticate").contains(r#"scope="people:write""#));
    let writer = server.token(&acme, &admin, &["people:write"]).await;
    server
        .get("/v1/people", &writer)
        .expect_status_for(StatusCode::OK, "write implies read")
        .await;
}

async fn a_removed_role_takes_effect_on_the_next_request(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let owner = server
        .person(&acme, "owner@example.org", &["account_administrator"])
        .await;
    let director = server
        .person(&acme, "director@example.org", &["directory_administrator"])
        .await;
    let owner_token = server.token(&acme, &owner, &["people:write"]).await;
    let director_token = server.token(&acme, &director, &["people:write"]).await;
    let body = json!({ "name": "Carol", "primary_email": "carol@example.org" });
    server
        .post("/v1/people", &director_token)
        .json(&body)
        .expect_status(StatusCode::CREATED)
        .await;

    server
        .patch(&format!("/v1/people/{}", director.id), &owner_token)
        .json(&json!({ "roles": ["specialist"] }))
        .expect_status(StatusCode::OK)
        .await;
    let body = json!({ "name": "Dan", "primary_email": "dan@example.org" });
    let response = server
        .post("/v1/people", &director_token)
        .json(&body)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    assert!(header(&response, "www-authenticate").contains("insufficient_scope"));
    assert!(
        json_body(response).await["message"]
            .as_str()
            .expect("message")
            .contains("roles")
    );
}

async fn only_account_administrators_grant_account_administrator(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (_, _, token) = server
        .acme_member(
            "director@example.org",
            &["directory_administrator"],
            &["people:write"],
        )
        .await;
    server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Eve", "primary_email": "eve@example.org", "roles": ["account_administrator"] }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let people = server.get("/v1/people", &token).json_answer().await;
    assert_eq!(
        people.as_array().expect("array").len(),
        1,
        "nothing was created"
    );
}

async fn people_crud_validates_and_reports_conflicts(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (acme, _, token) = server
        .acme_member(
            "admin@example.org",
            &["account_administrator"],
            &["people:write"],
        )
        .await;

    let response = server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Bob", "primary_email": "bob@example.org", "job_title": "Engineer", "roles": ["specialist"] }))
        .expect_status(StatusCode::CREATED)
        .await;
    let bob = json_body(response).await;
    assert_eq!(bob["source"], "manual");
    let bob_path = format!("/v1/people/{}", bob["id"].as_str().expect("id"));

    server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Bobby", "primary_email": "BOB@example.org" }))
        .expect_status(StatusCode::CONFLICT)
        .await;

    let response = server
        .post("/v1/people", &token)
        .json(&json!({ "name": "", "primary_email": "nope" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let body = json_body(response).await;
    assert_eq!(
        body["errors"],
        json!([
            "name can't be blank",
            "primary_email is not a valid email address"
        ])
    );

    // Unknown fields are refused.
    server
        .post("/v1/people", &token)
        .json(&json!({ "name": "X", "primary_email": "x@example.org", "source": "scim" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;

    let response = server
        .post("/v1/people", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert!(json_body(response).await["message"].is_string());

    let response = server
        .patch(&bob_path, &token)
        .json(&json!({ "job_title": null, "name": "Robert" }))
        .expect_status(StatusCode::OK)
        .await;
    let updated = json_body(response).await;
    assert_eq!(
        (updated["name"].clone(), updated["job_title"].clone()),
        (json!("Robert"), Value::Null)
    );

    let bob = server.get(&bob_path, &token).json_answer().await;
    assert_eq!(bob["name"], "Robert");
    server
        .get(&format!("/v1/people/{}", uuid::Uuid::now_v7()), &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    let response = server
        .get("/v1/people/not-a-uuid", &token)
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert!(json_body(response).await["message"].is_string());

    let names: Vec<String> = server
        .services
        .store
        .events_after(&acme.id, 0, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.name)
        .collect();
    assert_eq!(
        names,
        [
            "person.create",
            "personal_access_token.create",
            "person.create",
            "person.update"
        ]
    );
}

async fn scim_people_are_read_only_except_roles(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (acme, _, token) = server
        .acme_member(
            "admin@example.org",
            &["account_administrator"],
            &["people:write"],
        )
        .await;
    let provisioned = common::scim_person(&acme.id, "Sam Scim", "sam@example.org");
    let event = NewEvent::new(
        &acme.id,
        "person.create",
        provisioned.id,
        None,
        json!({}),
        common::start_time(),
    );
    server
        .services
        .store
        .insert_person(&provisioned, &event)
        .await
        .expect("insert");
    let path = format!("/v1/people/{}", provisioned.id);
    let response = server
        .patch(&path, &token)
        .json(&json!({ "name": "Renamed" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let body = json_body(response).await;
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("provisioned by the SCIM client"),
        "{body}"
    );
    assert_eq!(body["errors"], json!(["name is read-only for SCIM people"]));
    let response = server
        .patch(&path, &token)
        .json(&json!({ "roles": ["specialist"] }))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["name"], "Sam Scim");
}

async fn pagination_headers_and_edges(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let admin = server
        .person(&acme, "admin@example.org", &["account_administrator"])
        .await;
    for index in 0..4 {
        server
            .person(&acme, &format!("p{index}@example.org"), &["specialist"])
            .await;
    }
    let token = server.token(&acme, &admin, &["people:read"]).await;
    let response = server
        .get("/v1/people?per_page=2&page=2&sort=-name", &token)
        .expect_status(StatusCode::OK)
        .await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ascii").to_owned())
    };
    assert_eq!(header("x-pagination-total-entries").as_deref(), Some("5"));
    assert_eq!(header("x-pagination-total-pages").as_deref(), Some("3"));
    assert_eq!(header("x-pagination-current-page").as_deref(), Some("2"));
    assert_eq!(header("x-pagination-per-page").as_deref(), Some("2"));
    let link = header("link").expect("Link header");
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    let next = format!(
        "<{}/v1/people?per_page=2&page=3&sort=-name>; rel=\"next\"",
        server.base_url
    );
    assert!(link.contains(&next), "{link}");
    assert_eq!(
        texts(&json_body(response).await, "/name"),
        ["p1", "p0"],
        "descending by name: p3 p2 | p1 p0 | admin"
    );

    let response = server
        .get("/v1/people?per_page=2&page=9", &token)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await, json!([]));
    for bad in [
        "per_page=0",
        "per_page=101",
        "page=0",
        "page=abc",
        "sort=password",
        "fields=nonsense",
    ] {
        let response = server
            .get(&format!("/v1/people?{bad}"), &token)
            .expect_status(StatusCode::BAD_REQUEST)
            .await;
        assert!(json_body(response).await["message"].is_string());
    }
    let everyone = server
        .get("/v1/people?per_page=100", &token)
        .json_answer()
        .await;
    assert_eq!(everyone.as_array().expect("array").len(), 5);
}

async fn tokens_are_personal_unless_you_administer(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let admin = server
        .person(&acme, "admin@example.org", &["directory_administrator"])
        .await;
    let ada = server
        .person(&acme, "ada@example.org", &["specialist"])
        .await;
    let bob = server
        .person(&acme, "bob@example.org", &["specialist"])
        .await;
    let admin_token = server
        .token(&acme, &admin, &["personal_access_tokens:write"])
        .await;
    let ada_token = server
        .token_for_days(
            &acme,
            &ada,
            &["personal_access_tokens:write", "people:read"],
            365,
        )
        .await;
    let bob_token = server
        .token(&acme, &bob, &["personal_access_tokens:write"])
        .await;

    let response = server
        .post("/v1/personal_access_tokens", &ada_token)
        .json(&json!({ "name": "ci", "scopes": ["people:read"], "expires_in": 90, "description": "deploys" }))
        .expect_status(StatusCode::CREATED)
        .await;
    let created = json_body(response).await;
    let secret = created["token_secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert!(secret.starts_with("gth_pat_"));
    assert_eq!(
        created["expires_at"],
        json!(common::start_time() + Duration::days(90))
    );
    let id = created["id"].as_str().expect("id").to_owned();

    let shown = server
        .get(&format!("/v1/personal_access_tokens/{id}"), &ada_token)
        .json_answer()
        .await;
    assert_eq!(shown["name"], "ci");
    assert!(shown.get("token_secret").is_none(), "never shown again");
    let listed = server
        .get("/v1/personal_access_tokens", &ada_token)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(!listed.contains(&secret));

    // Someone else's token is not found.
    server
        .get(&format!("/v1/personal_access_tokens/{id}"), &bob_token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    server
        .post(
            &format!("/v1/personal_access_tokens/{id}/revoke"),
            &bob_token,
        )
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    server
        .get("/v1/personal_access_tokens?person_id=all", &bob_token)
        .expect_status(StatusCode::FORBIDDEN)
        .await;

    let all = server
        .get("/v1/personal_access_tokens?person_id=all", &admin_token)
        .json_answer()
        .await;
    assert_eq!(all.as_array().expect("array").len(), 4);
    let adas = server
        .get(
            &format!("/v1/personal_access_tokens?person_id={}", ada.id),
            &admin_token,
        )
        .json_answer()
        .await;
    assert_eq!(adas.as_array().expect("array").len(), 2);
    server
        .post(
            &format!("/v1/personal_access_tokens/{id}/revoke"),
            &admin_token,
        )
        .expect_status(StatusCode::OK)
        .await;
    server
        .get("/v1/me", &secret)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
}

/// The owner renames, describes and narrows a token, which takes effect at once; widening,
/// other people's tokens and revoked ones are refused; DELETE revokes.
async fn the_owner_edits_and_narrows_a_token_and_delete_revokes_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["specialist"])
        .await;
    let admin = server
        .person(&acme, "admin@example.org", &["account_administrator"])
        .await;
    let token = server
        .token(
            &acme,
            &ada,
            &["people:read", "personal_access_tokens:write"],
        )
        .await;
    let me = server.get("/v1/me", &token).json_answer().await;
    let listed = server
        .get("/v1/personal_access_tokens", &token)
        .json_answer()
        .await;
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/personal_access_tokens/{id}");
    assert!(me["id"].is_string());

    let changed = server
        .patch(&path, &token)
        .json(&json!({ "name": "CI", "description": "the nightly job", "scopes": ["personal_access_tokens:write"] }))
        .json_answer()
        .await;
    assert_eq!(changed["name"], "CI");
    assert_eq!(changed["description"], "the nightly job");
    assert_eq!(changed["scopes"], json!(["personal_access_tokens:write"]));
    // Narrower at once: people:read is gone.
    server
        .get("/v1/people", &token)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let events = server.event_names("acme", "personal_access_token.").await;
    assert!(
        events
            .iter()
            .any(|name| name == "personal_access_token.update"),
        "{events:?}"
    );

    let refused = server
        .patch(&path, &token)
        .json(&json!({ "scopes": ["personal_access_tokens:write", "people:write"] }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let message = json_body(refused).await["message"].to_string();
    assert!(
        message.contains("can only narrow") && message.contains("people:write"),
        "{message}"
    );
    let cleared = server
        .patch(&path, &token)
        .json(&json!({ "description": null }))
        .json_answer()
        .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["name"], "CI");

    // An administrator sees the token but changes only by revoking it.
    let admin_token = server
        .token(&acme, &admin, &["personal_access_tokens:write"])
        .await;
    server
        .patch(&path, &admin_token)
        .json(&json!({ "name": "mine now" }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    server
        .delete(&path, &admin_token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    server
        .get("/v1/me", &token)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    let shown = server.get(&path, &admin_token).json_answer().await;
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["name"], "CI", "a refused change changed nothing");
    server
        .delete(&path, &admin_token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
}

async fn token_creation_rules(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["specialist"])
        .await;
    let token = server
        .token_for_days(&acme, &ada, &["personal_access_tokens:write"], 365)
        .await;
    let cases = [
        (
            json!({ "name": "x", "expires_in": 3 }),
            "expires_in must be one of",
        ),
        (
            json!({ "name": "x", "expires_at": common::start_time() + Duration::days(400) }),
            "at most 365 days",
        ),
        (
            json!({ "name": "x", "expires_at": common::start_time() - Duration::days(1) }),
            "in the future",
        ),
        (
            json!({ "name": "", "expires_in": 30 }),
            "name can't be blank",
        ),
    ];
    for (body, expected) in cases {
        let response = server
            .post("/v1/personal_access_tokens", &token)
            .json(&body)
            .expect_status_for(StatusCode::UNPROCESSABLE_ENTITY, &body)
            .await;
        let text = response.text().await.expect("text");
        assert!(text.contains(expected), "{body}: {text}");
    }
    // A scope the creating token lacks is refused before the roles are asked (tests/it/security.rs
    // has the rest of that rule); one the roles don't permit, though the token holds it, is 422.
    let response = server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({ "name": "x", "expires_in": 30, "scopes": ["webhooks:write"] }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    assert!(header(&response, "www-authenticate").contains(r#"scope="webhooks:write""#));
    // Unknown scope.
    server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({ "name": "x", "expires_in": 30, "scopes": ["root:write"] }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    // Exactly a year is allowed.
    server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({ "name": "x", "expires_at": common::start_time() + Duration::days(365) }))
        .expect_status(StatusCode::CREATED)
        .await;
    let response = server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({ "name": "no choice" }))
        .expect_status(StatusCode::CREATED)
        .await;
    let created = json_body(response).await;
    assert_eq!(
        created["expires_at"],
        json!(common::start_time() + Duration::days(30)),
        "30 days when no expiry is chosen"
    );
    assert_eq!(created["scopes"], json!([]), "no scopes: deny all");
    // Descriptions may span lines.
    server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({ "name": "x", "description": "line one\nline two" }))
        .expect_status(StatusCode::CREATED)
        .await;
}

async fn cross_account_requests_never_reach_another_account(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let globex = server.account("globex").await;
    let acme_admin = server
        .person(&acme, "admin@acme.example", &["account_administrator"])
        .await;
    let globex_admin = server
        .person(&globex, "admin@globex.example", &["account_administrator"])
        .await;
    let acme_token = server.token_with_every_scope(&acme, &acme_admin).await;
    let _globex_token = server.token_with_every_scope(&globex, &globex_admin).await;
    let globex_tokens = server
        .services
        .tokens_as_operator(
            &globex,
            gatehouse::store::TokenOwnerFilter::Everyone,
            &Default::default(),
        )
        .await
        .expect("tokens");
    let globex_token_id = globex_tokens.items[0].id;

    // Every endpoint, asked for the other account by header: refused before any handler runs.
    let endpoints = [
        ("GET", "/v1/me".to_owned()),
        ("GET", "/v1/people".to_owned()),
        ("POST", "/v1/people".to_owned()),
        ("GET", format!("/v1/people/{}", globex_admin.id)),
        ("PATCH", format!("/v1/people/{}", globex_admin.id)),
        ("GET", "/v1/personal_access_tokens".to_owned()),
        ("POST", "/v1/personal_access_tokens".to_owned()),
        (
            "GET",
            format!("/v1/personal_access_tokens/{globex_token_id}"),
        ),
        (
            "POST",
            format!("/v1/personal_access_tokens/{globex_token_id}/revoke"),
        ),
    ];
    for (method, path) in &endpoints {
        let request = server
            .client
            .request(method.parse().expect("method"), server.url(path))
            .bearer_auth(&acme_token)
            .header(ACCOUNT_HEADER, "globex")
            .json(
                &json!({ "name": "Mallory", "primary_email": "m@example.org", "expires_in": 30 }),
            );
        let response = request.expect_status(StatusCode::UNAUTHORIZED).await;
        assert!(
            header(&response, "www-authenticate")
                .contains(gatehouse::service::INVALID_TOKEN_MESSAGE),
            "{method} {path}: the same answer as for any unusable token"
        );
    }
    // And the other account's ids, in the token's own account: not found.
    for (method, path) in &endpoints[3..] {
        if !path.contains(&globex_admin.id.to_string())
            && !path.contains(&globex_token_id.to_string())
        {
            continue;
        }
        server
            .client
            .request(method.parse().expect("method"), server.url(path))
            .bearer_auth(&acme_token)
            .json(&json!({ "name": "Mallory" }))
            .expect_status(StatusCode::NOT_FOUND)
            .await;
    }
    let listed = server
        .get("/v1/personal_access_tokens?person_id=all", &acme_token)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(!listed.contains(&globex_token_id.to_string()));
    let still = server
        .services
        .tokens_as_operator(
            &globex,
            gatehouse::store::TokenOwnerFilter::Everyone,
            &Default::default(),
        )
        .await
        .expect("tokens");
    assert!(
        still.items[0].revoked_at.is_none(),
        "globex's token untouched"
    );
}

async fn rate_limit_headers_and_429(backend: Backend) {
    let server = TestServer::start_with(
        backend,
        TestServerOptions {
            rate_limit_per_minute: 3,
            ..TestServerOptions::default()
        },
    )
    .await;
    let (acme, ada, token) = server
        .acme_member("ada@example.org", &["specialist"], &["people:read"])
        .await;
    let other = server.token(&acme, &ada, &["people:read"]).await;
    for remaining in ["2", "1", "0"] {
        let response = server
            .get("/v1/me", &token)
            .expect_status(StatusCode::OK)
            .await;
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
    }
    let response = server
        .get("/v1/me", &token)
        .expect_status(StatusCode::TOO_MANY_REQUESTS)
        .await;
    // The reset is the Unix second the window ends (Xurrent's and GitHub's convention), and
    // Retry-After the seconds until then.
    let header_number =
        |name: &str| -> i64 { response.headers()[name].to_str().unwrap().parse().unwrap() };
    let now = server.clock.now().timestamp();
    let reset = header_number("x-ratelimit-reset");
    assert!(
        (now + 1..=now + 60).contains(&reset),
        "reset {reset}, now {now}"
    );
    assert_eq!(header_number("retry-after"), reset - now);
    assert!(json_body(response).await["message"].is_string());
    server
        .get("/v1/me", &other)
        .expect_status_for(StatusCode::OK, "limits are per token")
        .await;
}

async fn last_used_at_is_recorded_at_most_once_a_minute(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (_, _, token) = server
        .acme_member(
            "ada@example.org",
            &["specialist"],
            &["personal_access_tokens:read"],
        )
        .await;
    let last_used = || async {
        let body = server
            .get("/v1/personal_access_tokens", &token)
            .json_answer()
            .await;
        body[0]["last_used_at"].clone()
    };
    let first = last_used().await;
    assert_eq!(first, json!(common::start_time()));
    server.clock.advance(Duration::seconds(30));
    assert_eq!(last_used().await, first, "not rewritten within a minute");
    server.clock.advance(Duration::seconds(31));
    assert_eq!(
        last_used().await,
        json!(common::start_time() + Duration::seconds(61))
    );
}

both_backends!(
    me_returns_the_token_owner,
    missing_malformed_and_unknown_tokens_get_rfc6750_challenges,
    expired_and_revoked_tokens_are_refused,
    scopes_deny_by_default_and_name_the_missing_scope,
    a_removed_role_takes_effect_on_the_next_request,
    only_account_administrators_grant_account_administrator,
    people_crud_validates_and_reports_conflicts,
    scim_people_are_read_only_except_roles,
    pagination_headers_and_edges,
    tokens_are_personal_unless_you_administer,
    the_owner_edits_and_narrows_a_token_and_delete_revokes_it,
    token_creation_rules,
    cross_account_requests_never_reach_another_account,
    rate_limit_headers_and_429,
    last_used_at_is_recorded_at_most_once_a_minute,
);

/// Two `gatehouse serve` processes on one PostgreSQL database: a token revoked through one is
/// refused by the other at once, though the other had it cached (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocation_on_one_node_reaches_the_other_at_once() {
    if !common::postgres_reachable().await {
        return;
    }
    let server = TestServer::start(Backend::Postgres).await;
    let (_, _, token) = server
        .acme_member(
            "ada@example.org",
            &["specialist"],
            &["people:read", "personal_access_tokens:write"],
        )
        .await;
    // The second node: same database, its own cache, a long TTL so only a notification helps.
    let other_node = server.another_node(std::time::Duration::from_secs(3_600));
    other_node.follow_credential_changes();
    other_node
        .authenticate(&token, None)
        .await
        .expect("cached on the other node");

    let listed = server
        .get("/v1/personal_access_tokens", &token)
        .json_answer()
        .await;
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    server
        .post(&format!("/v1/personal_access_tokens/{id}/revoke"), &token)
        .expect_status(StatusCode::OK)
        .await;

    // Notifications are asynchronous; allow them a bounded moment to arrive.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match other_node.authenticate(&token, None).await {
            Err(gatehouse::service::ServiceError::Unauthenticated(failure)) => {
                assert_eq!(failure, gatehouse::service::AuthFailure::Revoked);
                break;
            }
            Ok(_) => assert!(
                std::time::Instant::now() < deadline,
                "the other node still accepts a revoked token"
            ),
            Err(error) => panic!("{error}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A rotation of a signing secret made through one node tells every node following changes
/// (PostgreSQL LISTEN/NOTIFY), so their delivery signers drop the secrets they cached at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rotation_on_one_node_reaches_the_others_signer_at_once() {
    use gatehouse::service::Services;
    if !common::postgres_reachable().await {
        return;
    }
    let server = TestServer::start(Backend::Postgres).await;
    let (_, _, token) = server
        .acme_member(
            "ada@example.org",
            &["account_administrator"],
            &["webhooks:write", "webhooks:read"],
        )
        .await;
    let other_node = Services::new(server.services.store.clone(), server.clock.clone());
    other_node.follow_credential_changes();
    let before = other_node
        .signing_changes
        .load(std::sync::atomic::Ordering::Acquire);
    let created = server
        .post("/v1/webhooks", &token)
        .json(&serde_json::json!({"event": "app.*", "uri": "http://192.0.2.1/hook"}))
        .json_answer()
        .await;
    let id = created["id"].as_str().expect("id");
    // The other node's listener connects in the background: a rotation made before it listens
    // goes unheard, so rotate again until one is heard (or 5 s pass).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    'rotations: loop {
        server
            .post(&format!("/v1/webhooks/{id}/signing_secret/rotate"), &token)
            .json(&serde_json::json!({"overlap_seconds": 0}))
            .expect_status(StatusCode::OK)
            .await;
        for _ in 0..25 {
            if other_node
                .signing_changes
                .load(std::sync::atomic::Ordering::Acquire)
                != before
            {
                break 'rotations;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other node never heard of a rotation"
        );
    }
}

/// Two nodes on one PostgreSQL database: an account renamed through one is read renamed by
/// the other at once, though the other had it cached (the credentials' LISTEN/NOTIFY channel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_account_change_on_one_node_reaches_the_other_at_once() {
    use gatehouse::service::AccountChanges;
    if !common::postgres_reachable().await {
        return;
    }
    let server = TestServer::start(Backend::Postgres).await;
    let (acme_account, _, token) = server
        .acme_member(
            "ada@example.org",
            &["account_administrator"],
            &["account:read", "account:write"],
        )
        .await;
    let acme = acme_account.id;
    let other_node = server.another_node(std::time::Duration::from_secs(3_600));
    other_node.follow_credential_changes();
    // The listener connects in the background: a change made before it listens goes unheard,
    // so rename again until the other node reads a new name (or 5 s pass).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for round in 0.. {
        let before = other_node.account(&acme).await.expect("account").name;
        let name = format!("Acme, renamed {round}");
        let patched = server
            .patch("/v1/account", &token)
            .json(&serde_json::json!({ "name": name }))
            .json_answer()
            .await;
        assert_eq!(patched["name"], name.as_str());
        let mut read = before.clone();
        for _ in 0..25 {
            read = other_node.account(&acme).await.expect("account").name;
            if read != before {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if read == name {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other node still reads {read:?} after the account became {name:?}"
        );
    }
    // And a change made through the services themselves, as the admin CLI makes it.
    server
        .services
        .update_account(
            &acme,
            AccountChanges {
                delivery_retention_days: Some(7),
                ..AccountChanges::default()
            },
        )
        .await
        .expect("update");
    common::wait_until(
        std::time::Duration::from_secs(5),
        "the other node never read the new retention",
        || async {
            let account = other_node.account(&acme).await.expect("account");
            account.delivery_retention_days.get() == 7
        },
    )
    .await;
}

/// The account a request reads is cached, but a change made through this process is read back
/// at once, and one nothing signals (the admin CLI on the SQLite file of a running server)
/// within the cache's time-to-live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_account_changes_are_read_at_once_here_and_within_the_ttl_elsewhere() {
    use gatehouse::domain::ScimPatchResponse;
    use gatehouse::service::AccountChanges;
    let server = TestServer::start(Backend::Sqlite).await;
    let (acme_account, _, token) = server
        .acme_member(
            "ada@example.org",
            &["account_administrator"],
            &["account:read", "account:write"],
        )
        .await;
    let acme = acme_account.id;
    // Here: read (and cached), changed through the API, read again.
    let before = server.get("/v1/account", &token).json_answer().await;
    assert_ne!(before["name"], "Acme Corp");
    server
        .patch("/v1/account", &token)
        .json(
            &serde_json::json!({"name": "Acme Corp", "settings": {"delivery_retention_days": 30}}),
        )
        .expect_status(StatusCode::OK)
        .await;
    let read = server.get("/v1/account", &token).json_answer().await;
    assert_eq!(read["name"], "Acme Corp");
    assert_eq!(read["settings"]["delivery_retention_days"], 30);

    // Elsewhere: a running server with its own cache, and a "CLI" writing the same file.
    let ttl = std::time::Duration::from_millis(300);
    let running_server = server.another_node(ttl);
    let cached = running_server.account(&acme).await.expect("account");
    assert_eq!(cached.scim_patch_response, ScimPatchResponse::Resource);
    server
        .services
        .update_account(
            &acme,
            AccountChanges {
                scim_patch_response: Some(ScimPatchResponse::NoContent),
                ..AccountChanges::default()
            },
        )
        .await
        .expect("update");
    common::wait_until(
        ttl + std::time::Duration::from_millis(200),
        "the account was served past the TTL",
        || async {
            let account = running_server.account(&acme).await.expect("account");
            account.scim_patch_response == ScimPatchResponse::NoContent
        },
    )
    .await;
}

/// The cache never outlives its TTL, even for a change nothing signals (the admin CLI writing
/// the SQLite file of a running server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unsignalled_revocation_is_seen_within_the_cache_ttl() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (acme, _, token) = server
        .acme_member("ada@example.org", &["specialist"], &["people:read"])
        .await;
    let ttl = std::time::Duration::from_millis(300);
    let running_server = server.another_node(ttl);
    running_server
        .authenticate(&token, None)
        .await
        .expect("cached");
    // The "CLI": another Services over the same file, whose invalidation can't reach the server.
    let listing = server
        .services
        .tokens_as_operator(
            &acme,
            gatehouse::store::TokenOwnerFilter::Everyone,
            &Default::default(),
        )
        .await
        .expect("tokens");
    server
        .services
        .revoke_token_as_operator(&acme, listing.items[0].id)
        .await
        .expect("revoke");
    common::wait_until(
        ttl + std::time::Duration::from_millis(200),
        "served past the TTL",
        || async { running_server.authenticate(&token, None).await.is_err() },
    )
    .await;
}
