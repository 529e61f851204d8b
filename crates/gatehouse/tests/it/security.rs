//! Nothing in an account acts above its rank, on both backends, through HTTP: a token creates
//! only tokens within its own scopes and lifetime; a lower role never changes, disables, takes
//! over through SCIM, deletes or revokes the tokens of a higher one; references to another
//! account's records are unknown ids; a refused token learns nothing about why; and the
//! protective headers are on every answer. The same escalations are replayed against a live
//! release-like server by scripts/security-regression.

use crate::common::{self, Backend, RequestExt, TestServer, header, json_body};
use chrono::Duration;
use gatehouse::domain::{Account, Person, PersonSource};
use gatehouse::service::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn token_count(server: &TestServer, account: &Account) -> u64 {
    server
        .services
        .tokens_as_operator(
            account,
            gatehouse::store::TokenOwnerFilter::Everyone,
            &gatehouse::store::ListQuery {
                offset: 0,
                limit: 100,
                sort: Vec::new(),
            },
        )
        .await
        .expect("tokens")
        .total
}

async fn a_token_creates_only_tokens_within_its_own_scopes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (acme, _, narrow) = server
        .acme_member(
            "ada@example.org",
            &["account_administrator"],
            &["personal_access_tokens:write"],
        )
        .await;

    let response = server
        .post("/v1/personal_access_tokens", &narrow)
        .json(&json!({"name": "wider", "scopes": ["webhooks:write", "people:write", "personal_access_tokens:read"]}))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    let challenge = header(&response, "www-authenticate");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="people:write webhooks:write""#),
        "names exactly what is missing (write implies read): {challenge}"
    );
    let refused = json_body(response).await;
    let message = refused["message"].as_str().expect("message");
    assert!(
        message.contains("people:write") && message.contains("webhooks:write"),
        "{message}"
    );
    assert_eq!(token_count(&server, &acme).await, 1, "nothing was created");

    // Within its own scopes (write implies read) it may, and the new token can do only that.
    let response = server
        .post("/v1/personal_access_tokens", &narrow)
        .json(&json!({"name": "narrower", "scopes": ["personal_access_tokens:read"]}))
        .expect_status(StatusCode::CREATED)
        .await;
    let created = json_body(response).await;
    let secret = created["token_secret"].as_str().expect("secret");
    server
        .get("/v1/webhooks", secret)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
}

async fn a_token_never_creates_one_that_outlives_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    let week = server
        .token_for_days(&acme, &ada, &["personal_access_tokens:write"], 7)
        .await;
    let own_expiry = server.clock.now() + Duration::days(7);
    server.clock.advance(Duration::hours(1));

    for (request, what) in [
        (json!({"name": "renewed", "expires_in": 365}), "a year"),
        (
            json!({"name": "renewed", "expires_in": 7}),
            "a week from now",
        ),
        (
            json!({"name": "renewed", "expires_at": (own_expiry + Duration::seconds(1)).to_rfc3339()}),
            "a second past its own expiry",
        ),
    ] {
        let response = server
            .post("/v1/personal_access_tokens", &week)
            .json(&request)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(
            header(&response, "www-authenticate").contains(r#"error="insufficient_scope""#),
            "{what}"
        );
        let message = json_body(response).await["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(message.contains("expire no later"), "{what}: {message}");
    }
    assert_eq!(token_count(&server, &acme).await, 1, "nothing was created");

    // Up to its own expiry is fine; without a choice the default is cut to its own.
    server
        .post("/v1/personal_access_tokens", &week)
        .json(&json!({"name": "same end", "expires_at": own_expiry.to_rfc3339()}))
        .expect_status(StatusCode::CREATED)
        .await;
    let response = server
        .post("/v1/personal_access_tokens", &week)
        .json(&json!({"name": "default"}))
        .expect_status(StatusCode::CREATED)
        .await;
    let created = json_body(response).await;
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(created["expires_at"].clone()).expect("timestamp");
    assert_eq!(expires_at, own_expiry);

    // The operator's CLI is not bound by any token.
    let year = server
        .token_for_days(&acme, &ada, &["webhooks:write"], 365)
        .await;
    let operator_made = server
        .services
        .authenticate(&year, None)
        .await
        .expect("a working token");
    assert_eq!(
        operator_made.expires_at,
        server.clock.now() + Duration::days(365)
    );
    assert!(operator_made.expires_at > own_expiry);
}

/// Dora (directory administrator) against Ada (account administrator), with Sam (specialist)
/// and Dirk (another directory administrator) as people Dora may act on.
struct Cast {
    server: TestServer,
    ada: Person,
    ada_token: String,
    dora_token: String,
    sam: Person,
    dirk: Person,
}

async fn cast(backend: Backend) -> Cast {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    let dora = server
        .person(&acme, "dora@example.org", &["directory_administrator"])
        .await;
    let sam = server
        .person(&acme, "sam@example.org", &["specialist"])
        .await;
    let dirk = server
        .person(&acme, "dirk@example.org", &["directory_administrator"])
        .await;
    let scopes = ["people:write", "personal_access_tokens:write", "scim:write"];
    let ada_token = server.token(&acme, &ada, &scopes).await;
    let dora_token = server.token(&acme, &dora, &scopes).await;
    Cast {
        server,
        ada,
        ada_token,
        dora_token,
        sam,
        dirk,
    }
}

impl Cast {
    async fn person(&self, person: &Person) -> Person {
        self.server
            .services
            .store
            .person(&person.account_id, person.id)
            .await
            .expect("read")
            .expect("exists")
    }

    /// Ada is unchanged and her token still works.
    async fn assert_ada_untouched(&self, after: &str) {
        let ada = self.person(&self.ada).await;
        assert_eq!(ada, self.ada, "after {after}");
        let response = self
            .server
            .get("/v1/me", &self.ada_token)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "Ada's token after {after}"
        );
    }

    /// The id of the first of `person`'s tokens, as Dora lists them.
    async fn listed_token_id(&self, person: &Person) -> String {
        let listed = self
            .server
            .get(
                &format!("/v1/personal_access_tokens?person_id={}", person.id),
                &self.dora_token,
            )
            .json_answer()
            .await;
        listed[0]["id"].as_str().expect("a token").to_owned()
    }

    /// Dora revokes the token `id`, which answers `status`.
    async fn dora_revokes(&self, id: &str, status: StatusCode) -> reqwest::Response {
        self.server
            .post(
                &format!("/v1/personal_access_tokens/{id}/revoke"),
                &self.dora_token,
            )
            .expect_status(status)
            .await
    }

    async fn provision_ada_herself(&self) -> String {
        let response = self
            .server
            .post("/scim/v2/Users", &self.ada_token)
            .json(&ada_as_scim("Ada", "Lovelace"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED, "equals may");
        json_body(response).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

fn ada_as_scim(given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": "ada@example.org",
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": "ada@example.org", "primary": true}],
        "active": true
    })
}

fn assert_scim_forbidden(status: StatusCode, error: &Value, what: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {error}");
    assert_eq!(error["schemas"], json!([ERROR]), "{what}");
    assert_eq!(error["status"], "403", "{what}");
    let detail = error["detail"].as_str().expect("detail");
    assert!(
        detail.contains("an account administrator"),
        "{what}: {detail}"
    );
}

async fn a_directory_administrator_cannot_change_or_disable_an_account_administrator(
    backend: Backend,
) {
    let cast = cast(backend).await;
    let path = format!("/v1/people/{}", cast.ada.id);
    for change in [
        json!({"disabled": true}),
        json!({"name": "Mallory"}),
        json!({"primary_email": "mallory@example.org"}),
        json!({"roles": ["specialist"]}),
    ] {
        let response = cast
            .server
            .patch(&path, &cast.dora_token)
            .json(&change)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{change}");
        let message = json_body(response).await["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(
            message.contains("dora may not change ada")
                && message.contains("an account administrator"),
            "says who, whom and why: {message}"
        );
        cast.assert_ada_untouched(&change.to_string()).await;
    }

    // Equals and lower ranks: Dora may.
    for (person, name) in [(&cast.dirk, "dirk"), (&cast.sam, "sam")] {
        let response = cast
            .server
            .patch(&format!("/v1/people/{}", person.id), &cast.dora_token)
            .json(&json!({"disabled": true}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert!(cast.person(person).await.disabled, "{name}");
    }

    // The account administrator outranks Dora.
    let dora = cast
        .server
        .services
        .person_by_email(&cast.ada.account_id, "dora@example.org")
        .await
        .expect("dora");
    cast.server
        .patch(&format!("/v1/people/{}", dora.id), &cast.ada_token)
        .json(&json!({"disabled": true}))
        .expect_status(StatusCode::OK)
        .await;
    cast.server
        .get("/v1/me", &cast.dora_token)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
}

async fn a_directory_administrator_cannot_revoke_an_account_administrators_tokens(
    backend: Backend,
) {
    let cast = cast(backend).await;
    let ada_token_id = cast.listed_token_id(&cast.ada).await;
    let response = cast
        .dora_revokes(&ada_token_id, StatusCode::FORBIDDEN)
        .await;
    let message = json_body(response).await["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(message.contains("revoke the tokens of ada"), "{message}");
    cast.assert_ada_untouched("revoking her token").await;

    // A specialist's token Dora may revoke.
    let acme = cast.server.find_account("acme").await;
    let sam_token = cast
        .server
        .token(&acme, &cast.sam, &["personal_access_tokens:read"])
        .await;
    let sam_token_id = cast.listed_token_id(&cast.sam).await;
    cast.dora_revokes(&sam_token_id, StatusCode::OK).await;
    cast.server
        .get("/v1/personal_access_tokens", &sam_token)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
}

async fn a_directory_administrator_cannot_take_over_an_account_administrator_through_scim(
    backend: Backend,
) {
    let cast = cast(backend).await;
    let response = cast
        .server
        .post("/scim/v2/Users", &cast.dora_token)
        .json(&ada_as_scim("Mallory", "Takeover"))
        .send()
        .await
        .expect("request");
    let status = response.status();
    let error = json_body(response).await;
    assert_scim_forbidden(status, &error, "take-over");
    assert!(
        error["detail"]
            .as_str()
            .is_some_and(|detail| detail.starts_with("dora may not take over ada through SCIM")),
        "{error}"
    );
    cast.assert_ada_untouched("a take-over").await;
    assert_eq!(cast.person(&cast.ada).await.source, PersonSource::Manual);
    let listed = cast
        .server
        .get("/scim/v2/Users", &cast.ada_token)
        .json_answer()
        .await;
    assert_eq!(listed["totalResults"], 0, "no SCIM User was made");

    // Through /Bulk the same.
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Users", "bulkId": "ada", "data": ada_as_scim("Mallory", "Bulk")}]
    });
    let answer = cast
        .server
        .post("/scim/v2/Bulk", &cast.dora_token)
        .json(&bulk)
        .json_answer()
        .await;
    assert_eq!(answer["Operations"][0]["status"], "403", "{answer}");
    cast.assert_ada_untouched("a bulk take-over").await;
}

async fn a_directory_administrator_cannot_change_deactivate_or_delete_an_account_administrators_scim_user(
    backend: Backend,
) {
    let cast = cast(backend).await;
    let id = cast.provision_ada_herself().await;
    // What Ada looks like once provisioned is the baseline from now on.
    let cast = Cast {
        ada: cast.person(&cast.ada).await,
        ..cast
    };
    assert_eq!(cast.ada.source, PersonSource::Scim);
    let path = format!("/scim/v2/Users/{id}");
    let deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]
    });
    let mut replaced = ada_as_scim("Ada", "Lovelace");
    replaced["active"] = json!(false);
    for (request, what) in [
        (
            cast.server.patch(&path, &cast.dora_token).json(&deactivate),
            "PATCH active false",
        ),
        (
            cast.server.put(&path, &cast.dora_token).json(&replaced),
            "PUT active false",
        ),
        (cast.server.delete(&path, &cast.dora_token), "DELETE"),
    ] {
        let response = request.send().await.expect("request");
        let status = response.status();
        assert_scim_forbidden(status, &json_body(response).await, what);
        cast.assert_ada_untouched(what).await;
    }
    let response = cast
        .server
        .get(&path, &cast.ada_token)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["active"], true);

    // Ada's own token (her rank) may deactivate her SCIM User.
    cast.server
        .patch(&path, &cast.ada_token)
        .json(&deactivate)
        .expect_status(StatusCode::OK)
        .await;
    assert!(cast.person(&cast.ada).await.disabled);
}

async fn a_reference_to_another_accounts_record_is_an_unknown_id(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let globex = server.account("globex").await;
    let acme_admin = server
        .person(&acme, "admin@acme.example", &["account_administrator"])
        .await;
    let globex_admin = server
        .person(&globex, "admin@globex.example", &["account_administrator"])
        .await;
    let acme_token = server.token(&acme, &acme_admin, &["scim:write"]).await;
    let globex_token = server.token(&globex, &globex_admin, &["scim:write"]).await;
    let response = server
        .post("/scim/v2/Users", &acme_token)
        .json(&json!({"schemas": [USER], "userName": "boss@acme.example"}))
        .expect_status(StatusCode::CREATED)
        .await;
    let acme_user = json_body(response).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let nowhere = uuid::Uuid::now_v7().to_string();

    // A manager: another account's user is refused exactly as an id that exists nowhere.
    let mut answers = Vec::new();
    for manager in [&acme_user, &nowhere] {
        let response = server
            .post("/scim/v2/Users", &globex_token)
            .json(&json!({
                "schemas": [USER, ENTERPRISE],
                "userName": "worker@globex.example",
                ENTERPRISE: {"manager": {"value": manager}}
            }))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let error = json_body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(error["scimType"], "invalidValue");
        let detail = error["detail"]
            .as_str()
            .expect("detail")
            .replace(manager, "ID");
        answers.push(detail);
    }
    assert_eq!(answers[0], answers[1], "the two refusals read alike");

    // A group member: the same.
    let mut answers = Vec::new();
    for member in [&acme_user, &nowhere] {
        let response = server
            .post("/scim/v2/Groups", &globex_token)
            .json(&json!({"schemas": [GROUP], "displayName": format!("Team {member}"), "members": [{"value": member}]}))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let error = json_body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(error["scimType"], "invalidValue");
        answers.push(
            error["detail"]
                .as_str()
                .expect("detail")
                .replace(member.as_str(), "ID"),
        );
    }
    assert_eq!(answers[0], answers[1], "the two refusals read alike");
    let listed = server
        .get("/scim/v2/Users", &globex_token)
        .json_answer()
        .await;
    assert_eq!(listed["totalResults"], 0, "nothing stored in globex");

    // A manager of the account itself is kept.
    let response = server
        .post("/scim/v2/Users", &acme_token)
        .json(&json!({
            "schemas": [USER, ENTERPRISE],
            "userName": "worker@acme.example",
            ENTERPRISE: {"manager": {"value": acme_user}}
        }))
        .expect_status(StatusCode::CREATED)
        .await;
    assert_eq!(
        json_body(response).await[ENTERPRISE]["manager"]["value"],
        acme_user
    );
}

/// Unknown, revoked, expired, owner-disabled and other-account tokens get one and the same
/// answer, so a leaked token's holder learns nothing from it.
async fn a_refused_token_learns_nothing_about_why(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    server.account("globex").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    let bob = server
        .person(&acme, "bob@example.org", &["specialist"])
        .await;
    let revoked = server.token(&acme, &ada, &["people:read"]).await;
    let expiring = server
        .token_for_days(&acme, &ada, &["people:read"], 7)
        .await;
    let disabled_owner = server.token(&acme, &bob, &["people:read"]).await;
    let other_account = server.token(&acme, &ada, &["people:read"]).await;
    let unknown = gatehouse::auth::TokenSecret::generate().expose().to_owned();

    let ada_principal = server
        .services
        .authenticate(&revoked, None)
        .await
        .expect("valid for now");
    server
        .services
        .revoke_token_as_operator(&acme, ada_principal.token_id)
        .await
        .expect("revoke");
    server
        .services
        .update_person(
            None,
            &acme.id,
            bob.id,
            gatehouse::service::PersonChanges {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("disable");
    server.clock.advance(Duration::days(8));
    let still_valid = server.token(&acme, &ada, &["people:read"]).await;

    let mut answers = Vec::new();
    for (token, account, why) in [
        (&unknown, None, "unknown"),
        (&revoked, None, "revoked"),
        (&expiring, None, "expired"),
        (&disabled_owner, None, "owner disabled"),
        (&other_account, Some("globex"), "another account"),
    ] {
        let mut request = server.get("/v1/me", token);
        if let Some(account) = account {
            request = request.header("X-Gatehouse-Account", account);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{why}");
        let challenge = header(&response, "www-authenticate");
        assert!(challenge.contains(r#"error="invalid_token""#), "{why}");
        answers.push((challenge, json_body(response).await, why));
    }
    for (challenge, answer, why) in &answers[1..] {
        assert_eq!(challenge, &answers[0].0, "{why}");
        assert_eq!(answer, &answers[0].1, "{why}");
    }
    // SCIM says it the same way.
    let response = server
        .get("/scim/v2/Users", &revoked)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(header(&response, "www-authenticate"), answers[0].0);
    let error = json_body(response).await;
    assert_eq!(error["detail"], answers[0].1["message"]);
    // A valid token still works (the clock moved, nothing else).
    server
        .get("/v1/me", &still_valid)
        .expect_status(StatusCode::OK)
        .await;
}

async fn every_answer_carries_nosniff_and_secrets_are_never_cached(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    let token = server.token_with_every_scope(&acme, &ada).await;
    let created = server
        .post("/v1/personal_access_tokens", &token)
        .json(&json!({"name": "secret"}))
        .expect_status(StatusCode::CREATED)
        .await;
    let policy = server
        .post("/v1/webhook_policies", &token)
        .json(&json!({"name": "signing", "jwt_alg": "es256"}))
        .expect_status(StatusCode::CREATED)
        .await;
    for (response, what) in [(&created, "token create"), (&policy, "policy create")] {
        assert_eq!(header(response, "cache-control"), "no-store", "{what}");
        assert_eq!(
            header(response, "x-content-type-options"),
            "nosniff",
            "{what}"
        );
    }
    let requests = [
        server.get("/v1/people", &token),
        server.get("/v1/nowhere", &token),
        server.get("/v1/me", "gth_pat_not-a-token"),
        server.get("/scim/v2/Users", &token),
        server.get("/scim/v2/ServiceProviderConfig", &token),
        server.get("/scim/v2/Users/nowhere", &token),
        server.client.get(server.url("/healthz")),
        server.client.get(server.url("/console/sign-in")),
    ];
    for request in requests {
        let response = request.send().await.expect("request");
        let url = response.url().path().to_owned();
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{url}"
        );
        assert_eq!(header(&response, "cache-control"), "no-store", "{url}");
    }
}

async fn scim_refuses_bodies_that_are_not_json_or_name_a_member_twice(backend: Backend) {
    let (server, token) =
        common::provisioning(backend, "account_administrator", &["scim:write"]).await;
    let search = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}"#;
    let user = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x"}"#;
    for (path, content_type, body_text) in [
        ("/scim/v2/.search", Some("text/plain"), search),
        ("/scim/v2/.search", None, search),
        (
            "/scim/v2/Users/.search",
            Some("application/x-www-form-urlencoded"),
            search,
        ),
        ("/scim/v2/Users", Some("text/plain"), user),
        ("/scim/v2/Bulk", Some("multipart/form-data"), "{}"),
    ] {
        let mut request = server.post(path, &token).body(body_text.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request");
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path} as {content_type:?}"
        );
        assert_eq!(json_body(response).await["schemas"], json!([ERROR]));
    }
    // A method an endpoint doesn't serve stays 405, whatever the body.
    for path in ["/scim/v2/Schemas", "/scim/v2/ServiceProviderConfig"] {
        let response = server
            .post(path, &token)
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    // Both JSON media types are fine, with parameters too.
    for content_type in ["application/scim+json; charset=utf-8", "application/json"] {
        let response = server
            .post("/scim/v2/.search", &token)
            .header("content-type", content_type)
            .body(search)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
    }

    for (path, duplicated) in [
        (
            "/scim/v2/Users",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":true,"active":false}"#,
        ),
        (
            "/scim/v2/Users",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","USERNAME":"b"}"#,
        ),
        (
            "/scim/v2/.search",
            r#"{"filter":"userName eq \"a\"","filter":"userName pr"}"#,
        ),
        (
            "/scim/v2/Bulk",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","method":"DELETE","path":"/Users"}]}"#,
        ),
    ] {
        let response = server
            .post(path, &token)
            .header("content-type", "application/scim+json")
            .body(duplicated)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let error = json_body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{duplicated}: {error}");
        assert_eq!(error["scimType"], "invalidSyntax", "{duplicated}");
    }
    let listed = server.get("/scim/v2/Users", &token).json_answer().await;
    assert_eq!(listed["totalResults"], 0, "nothing was created");
}

both_backends!(
    a_token_creates_only_tokens_within_its_own_scopes,
    a_token_never_creates_one_that_outlives_it,
    a_directory_administrator_cannot_change_or_disable_an_account_administrator,
    a_directory_administrator_cannot_revoke_an_account_administrators_tokens,
    a_directory_administrator_cannot_take_over_an_account_administrator_through_scim,
    a_directory_administrator_cannot_change_deactivate_or_delete_an_account_administrators_scim_user,
    a_reference_to_another_accounts_record_is_an_unknown_id,
    a_refused_token_learns_nothing_about_why,
    every_answer_carries_nosniff_and_secrets_are_never_cached,
    scim_refuses_bodies_that_are_not_json_or_name_a_member_twice,
);
