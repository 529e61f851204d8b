//! SCIM `/Users` end to end (RFC 7644 §3.2–3.6) on both backends: the provisioning client's
//! create, read, list, replace, patch and delete, and what each does to the linked person.

use crate::common::{Backend, RequestExt, TestServer, header, json_body, provisioning};
use gatehouse::domain::{AccountId, Person, PersonId, PersonSource};
use gatehouse::service::ServiceError;
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn barbara() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "bjensen@example.com",
        "externalId": "701984",
        "name": { "givenName": "Barbara", "familyName": "Jensen" },
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "password": "t1meMa$heen",
        "emails": [{ "value": "bjensen@example.com", "type": "work", "primary": true }],
        ENTERPRISE: { "employeeNumber": "701984", "department": "Tours" }
    })
}

async fn create(server: &TestServer, token: &str, user: &Value) -> Value {
    let response = server
        .post("/scim/v2/Users", token)
        .json(user)
        .expect_status_for(StatusCode::CREATED, user)
        .await;
    json_body(response).await
}

async fn account_events(server: &TestServer) -> Vec<String> {
    let acme = AccountId::parse("acme").expect("slug");
    server
        .services
        .store
        .events_after(&acme, 0, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.name)
        .collect()
}

/// The person of `acme` whose address is `email`, as the service finds them.
async fn acme_person(server: &TestServer, email: &str) -> Result<Person, ServiceError> {
    let acme = AccountId::parse("acme").expect("slug");
    server.services.person_by_email(&acme, email).await
}

/// Asserts that the latest events of `acme` are `names`, in that order.
async fn assert_latest_events(server: &TestServer, names: &[&str]) {
    let events = account_events(server).await;
    assert!(
        events.ends_with(
            &names
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
        ),
        "{events:?}"
    );
}

async fn create_returns_the_user_with_meta_and_provisions_a_person(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let response = server
        .post("/scim/v2/Users", &token)
        .json(&barbara())
        .expect_status(StatusCode::CREATED)
        .await;
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    let location = header(&response, "location");
    let user = json_body(response).await;
    let id = user["id"].as_str().expect("id");
    assert_eq!(location, format!("{}/scim/v2/Users/{id}", server.base_url));
    assert_eq!(user["meta"]["location"], location);
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user["meta"]["version"], "W/\"1\"");
    assert!(
        user.get("password").is_none(),
        "the password is never returned"
    );
    assert_eq!(user[ENTERPRISE]["employeeNumber"], "701984");

    let fetched = server
        .get(&format!("/scim/v2/Users/{id}"), &token)
        .json_answer()
        .await;
    assert_eq!(fetched, user);

    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    assert_eq!(
        (person.source, person.name.as_str()),
        (PersonSource::Scim, "Babs Jensen")
    );
    assert_eq!(person.job_title.as_deref(), Some("Tour Guide"));
    assert_eq!(person.employee_number.as_deref(), Some("701984"));
    assert_latest_events(&server, &["scim_user.create", "person.create"]).await;
}

async fn user_name_clashes_are_409_uniqueness_and_change_nothing(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    create(&server, &token, &barbara()).await;
    let events_before = account_events(&server).await.len();
    let mut twin = barbara();
    twin["userName"] = json!("BJENSEN@example.com");
    twin["emails"] = json!([{ "value": "twin@example.com" }]);
    let response = server
        .post("/scim/v2/Users", &token)
        .json(&twin)
        .expect_status(StatusCode::CONFLICT)
        .await;
    let error = json_body(response).await;
    assert_eq!(
        (error["status"].as_str(), error["scimType"].as_str()),
        (Some("409"), Some("uniqueness"))
    );
    assert_eq!(account_events(&server).await.len(), events_before);
    assert!(
        acme_person(&server, "twin@example.com").await.is_err(),
        "no person was made"
    );

    for (bad, scim_type) in [
        (json!({ "displayName": "no userName" }), "invalidValue"),
        (json!({ "userName": "x@y.z", "active": 7 }), "invalidValue"),
    ] {
        let response = server
            .post("/scim/v2/Users", &token)
            .json(&bad)
            .expect_status_for(StatusCode::BAD_REQUEST, &bad)
            .await;
        assert_eq!(json_body(response).await["scimType"], scim_type);
    }
    let response = server
        .post("/scim/v2/Users", &token)
        .header("content-type", "application/scim+json")
        .body("{nope")
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(response).await["scimType"], "invalidSyntax");
}

async fn list_filters_sorts_and_pages(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    for name in ["carol", "alice", "bob"] {
        create(&server, &token, &json!({ "userName": format!("{name}@example.org"), "emails": [{ "value": format!("{name}@example.org"), "type": "work" }] })).await;
    }
    let list = |query: &str| {
        let request = server.get(&format!("/scim/v2/Users?{query}"), &token);
        async move {
            let response = request.send().await.expect("request");
            (response.status(), json_body(response).await)
        }
    };
    let (status, page) = list("filter=userName%20eq%20%22ALICE@example.org%22").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(
        (page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(page["Resources"][0]["userName"], "alice@example.org");

    let (_, page) = list("sortBy=userName&sortOrder=descending&startIndex=2&count=1").await;
    assert_eq!(
        (page["totalResults"].as_u64(), page["startIndex"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "bob@example.org");

    let (_, page) = list("filter=emails%5Btype%20eq%20%22work%22%20and%20value%20sw%20%22c%22%5D&attributes=userName").await;
    assert_eq!(page["totalResults"], 1);
    let only = page["Resources"][0].as_object().expect("object");
    assert!(
        only.contains_key("userName") && only.contains_key("id") && !only.contains_key("emails"),
        "{only:?}"
    );

    let (_, page) = list("count=0").await;
    assert_eq!(
        (
            page["totalResults"].as_u64(),
            page["Resources"].as_array().map(Vec::len)
        ),
        (Some(3), Some(0))
    );

    for bad in ["filter=userName%20eq", "filter=nosuch%20pr"] {
        let (status, error) = list(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error["scimType"], "invalidFilter", "{bad}");
    }
    let deep = format!(
        "filter={}userName%20pr{}",
        "(".repeat(3000),
        ")".repeat(3000)
    );
    let (status, error) = list(&deep).await;
    assert_eq!(
        (status, error["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter")),
        "hostile depth"
    );
}

async fn put_replaces_and_if_match_guards_it(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create(&server, &token, &barbara()).await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().expect("id"));
    let mut replacement = barbara();
    replacement["title"] = json!("Head of Tours");
    replacement["displayName"] = json!("Barbara Jensen");
    server
        .put(&path, &token)
        .header("if-match", "W/\"7\"")
        .json(&replacement)
        .expect_status(StatusCode::PRECONDITION_FAILED)
        .await;
    let response = server
        .put(&path, &token)
        .header("if-match", "W/\"1\"")
        .json(&replacement)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    let replaced = json_body(response).await;
    assert_eq!(
        (
            replaced["title"].as_str(),
            replaced["meta"]["version"].as_str()
        ),
        (Some("Head of Tours"), Some("W/\"2\""))
    );
    server
        .get(&path, &token)
        .header("if-none-match", "W/\"2\"")
        .expect_status(StatusCode::NOT_MODIFIED)
        .await;
    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    assert_eq!(
        (person.name.as_str(), person.job_title.as_deref()),
        ("Barbara Jensen", Some("Head of Tours"))
    );
}

/// Entra ID deactivates with a capitalised op and a string boolean:
/// `{"op": "Replace", "path": "active", "value": "False"}`.
async fn entra_style_patch_deactivates_the_person(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create(&server, &token, &barbara()).await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().expect("id"));
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Add", "path": "emails[type eq \"home\"].value", "value": "babs@home.example" }
        ]
    });
    let response = server
        .patch(&path, &token)
        .json(&patch)
        .expect_status(StatusCode::OK)
        .await;
    let patched = json_body(response).await;
    assert_eq!(patched["active"], false);
    assert_eq!(patched["emails"].as_array().map(Vec::len), Some(2));
    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    assert!(person.disabled, "active=false disables the person");
    let filtered = server
        .get(
            "/scim/v2/Users?filter=emails.value%20eq%20%22babs@home.example%22",
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(filtered["totalResults"], 1, "filter rows follow the patch");

    let bad = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{ "op": "remove" }] });
    let response = server
        .patch(&path, &token)
        .json(&bad)
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(response).await["scimType"], "noTarget");
}

async fn delete_removes_the_user_and_disables_the_person(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create(&server, &token, &barbara()).await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().expect("id"));
    server
        .delete(&path, &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    let response = server
        .get(&path, &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(json_body(response).await["status"], "404");
    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("people are never deleted");
    assert!(person.disabled);
    assert_latest_events(&server, &["scim_user.delete", "person.update"]).await;
}

async fn a_hand_made_person_with_the_same_email_is_taken_over(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let acme = server.find_account("acme").await;
    let manual = server
        .person(&acme, "bjensen@example.com", &["specialist"])
        .await;
    let user = create(&server, &token, &barbara()).await;
    let person = server
        .services
        .person_by_email(&acme.id, "bjensen@example.com")
        .await
        .expect("person");
    assert_eq!(
        (person.id, person.source),
        (manual.id, PersonSource::Scim),
        "linked, not duplicated"
    );
    assert!(
        person.roles.contains(gatehouse::auth::Role::Specialist),
        "roles are kept"
    );
    let _: PersonId = person.id;
    assert!(user["id"].is_string());
}

/// Emails are not unique in SCIM (RFC 7643 §4.1, `uniqueness: none`): a second User with an
/// address another User's person already has is provisioned all the same, with a person of its
/// own that has no primary email (a person's primary email is unique). The Microsoft reference
/// collection creates users this way.
async fn users_sharing_an_email_each_get_a_person(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let acme = AccountId::parse("acme").expect("slug");
    let first = create(&server, &token, &barbara()).await;
    let mut twin = barbara();
    twin["userName"] = json!("babs.twin");
    twin["externalId"] = json!("701985");
    let response = server
        .post("/scim/v2/Users", &token)
        .json(&twin)
        .expect_status(StatusCode::CREATED)
        .await;
    let second: Value = response.json().await.expect("JSON");
    assert_eq!(
        second["emails"][0]["value"], "bjensen@example.com",
        "the User keeps it"
    );

    let holder = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    let first_record = server
        .services
        .store
        .scim_user_of_person(&acme, holder.id)
        .await
        .expect("query")
        .expect("linked");
    assert_eq!(
        first_record.id.0.to_string(),
        first["id"].as_str().expect("id")
    );

    // Changing the second User's email to the first's address keeps it off its person too,
    // while a fresh address goes onto it.
    let path = format!("/scim/v2/Users/{}", second["id"].as_str().expect("id"));
    let mut moved = twin.clone();
    moved["emails"] = json!([{ "value": "twin@example.com", "primary": true }]);
    server
        .put(&path, &token)
        .json(&moved)
        .expect_status(StatusCode::OK)
        .await;
    let twin_person = acme_person(&server, "twin@example.com")
        .await
        .expect("the fresh address is the person's");
    assert_ne!(twin_person.id, holder.id);
    server
        .put(&path, &token)
        .json(&twin)
        .expect_status(StatusCode::OK)
        .await;
    assert!(
        acme_person(&server, "twin@example.com").await.is_err(),
        "the old address left the person"
    );
}

/// docs/PRODUCT.md "SCIM Users": `phoneNumbers` of type work and mobile become the person's
/// phones, and a PATCH that changes one updates the person (with its `person.update` event).
async fn work_and_mobile_phones_reach_the_person(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let mut user = barbara();
    user["phoneNumbers"] = json!([
        { "value": "+1 555 0100", "type": "work", "primary": true },
        { "value": "+1 555 0199", "type": "mobile" },
        { "value": "+1 555 0142", "type": "home" }
    ]);
    let created = create(&server, &token, &user).await;
    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    assert_eq!(
        (person.work_phone.as_deref(), person.mobile_phone.as_deref()),
        (Some("+1 555 0100"), Some("+1 555 0199"))
    );

    let path = format!("/scim/v2/Users/{}", created["id"].as_str().expect("id"));
    server
        .patch(&path, &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                { "op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0111" },
                { "op": "remove", "path": "phoneNumbers[type eq \"mobile\"]" }
            ]
        }))
        .expect_status(StatusCode::OK)
        .await;
    let person = acme_person(&server, "bjensen@example.com")
        .await
        .expect("person");
    assert_eq!(
        (person.work_phone.as_deref(), person.mobile_phone.as_deref()),
        (Some("+1 555 0111"), None)
    );
    assert_eq!(
        server.event_names("acme", "person.").await,
        ["person.create", "person.create", "person.update"],
        "the admin, Barbara, then her phones"
    );
}

async fn other_accounts_never_see_or_touch_a_user(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create(&server, &token, &barbara()).await;
    let intruder_token = server.globex_admin_token(&["scim:write"]).await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().expect("id"));
    for request in [
        server.get(&path, &intruder_token),
        server.delete(&path, &intruder_token),
    ] {
        request.expect_status(StatusCode::NOT_FOUND).await;
    }
    let listed = server
        .get("/scim/v2/Users", &intruder_token)
        .json_answer()
        .await;
    assert_eq!(listed["totalResults"], 0);
    server
        .get(&path, &token)
        .expect_status_for(StatusCode::OK, "still there")
        .await;
}

/// RFC 7643 requires only a userName; such a User still provisions a person, without an email.
async fn a_user_with_only_a_user_name_is_accepted(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create(
        &server,
        &token,
        &json!({ "schemas": [USER], "userName": "kq7_rz" }),
    )
    .await;
    assert_eq!(user["userName"], "kq7_rz");
    let second = create(&server, &token, &json!({ "userName": "second" })).await;
    assert_ne!(
        user["id"], second["id"],
        "two email-less people don't clash"
    );
    let acme = AccountId::parse("acme").expect("slug");
    let people = server
        .services
        .store
        .people(
            &acme,
            None,
            &gatehouse::store::ListQuery {
                offset: 0,
                limit: 10,
                sort: Vec::new(),
            },
        )
        .await
        .expect("people");
    let provisioned: Vec<_> = people
        .items
        .iter()
        .filter(|person| person.source == PersonSource::Scim)
        .collect();
    assert_eq!(provisioned.len(), 2);
    assert!(
        provisioned
            .iter()
            .all(|person| person.primary_email.is_none())
    );
    assert_eq!(provisioned[0].name, "kq7_rz");
}

/// `POST /.search` (RFC 7644 §3.4.3) takes the list parameters as a JSON body and needs only
/// `scim:read`.
async fn search_takes_parameters_in_the_body(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    for name in ["alice", "bob"] {
        create(
            &server,
            &token,
            &json!({ "userName": name, "title": format!("{name} title") }),
        )
        .await;
    }
    let acme = server.find_account("acme").await;
    let reader = server
        .person(&acme, "reader@example.org", &["directory_administrator"])
        .await;
    let read_only = server.token(&acme, &reader, &["scim:read"]).await;
    for path in ["/scim/v2/Users/.search", "/scim/v2/.search"] {
        let request = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName sw \"b\"",
            "attributes": ["userName"],
            "startIndex": 1,
            "count": 10
        });
        let response = server
            .post(path, &read_only)
            .json(&request)
            .expect_status(StatusCode::OK)
            .await;
        let page = json_body(response).await;
        assert_eq!(page["totalResults"], 1, "{path}");
        assert_eq!(page["Resources"][0]["userName"], "bob");
        assert!(
            page["Resources"][0].get("title").is_none(),
            "attributes honoured"
        );
    }
    let response = server
        .post("/scim/v2/.search", &read_only)
        .json(&json!({ "schemas": ["urn:nope"] }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(response).await["scimType"], "invalidSyntax");
    // Creating needs scim:write.
    server
        .post("/scim/v2/Users", &read_only)
        .json(&json!({ "userName": "carol" }))
        .expect_status(StatusCode::FORBIDDEN)
        .await;
}

/// `/Me` (RFC 7644 §3.11) is the caller's own SCIM User; it is read-only here (501 otherwise).
async fn me_is_the_callers_own_user(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    // Not provisioned yet.
    let response = server
        .get("/scim/v2/Me", &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(json_body(response).await["status"], "404");
    let mine = create(&server, &token, &json!({ "userName": "admin", "emails": [{ "value": "admin@example.org", "primary": true }] })).await;
    let response = server
        .get("/scim/v2/Me", &token)
        .expect_status(StatusCode::OK)
        .await;
    let me = json_body(response).await;
    assert_eq!(me["id"], mine["id"]);
    assert_eq!(
        me["meta"]["location"], mine["meta"]["location"],
        "located under /Users"
    );
    let response = server
        .patch("/scim/v2/Me", &token)
        .json(&json!({}))
        .expect_status(StatusCode::NOT_IMPLEMENTED)
        .await;
    assert_eq!(json_body(response).await["status"], "501");
}

both_backends!(
    work_and_mobile_phones_reach_the_person,
    users_sharing_an_email_each_get_a_person,
    me_is_the_callers_own_user,
    a_user_with_only_a_user_name_is_accepted,
    search_takes_parameters_in_the_body,
    create_returns_the_user_with_meta_and_provisions_a_person,
    user_name_clashes_are_409_uniqueness_and_change_nothing,
    list_filters_sorts_and_pages,
    put_replaces_and_if_match_guards_it,
    entra_style_patch_deactivates_the_person,
    delete_removes_the_user_and_disables_the_person,
    a_hand_made_person_with_the_same_email_is_taken_over,
    other_accounts_never_see_or_touch_a_user,
);
