//! Look-alike identities on both backends: `userName` and emails compare by `scim::text::fold`
//! (NFKC, full case folding, trimmed), so values that differ only by width, case,
//! compatibility form or surrounding spaces clash and find each other; invisible and control
//! characters are refused; what the client sent is stored as sent; and the key migration
//! recomputes keys made the old way, reporting clashes instead of failing.

use crate::common::{Backend, RequestExt, TestServer, json_body, provisioning, texts};
use gatehouse::domain::AccountId;
use gatehouse::store::KeyKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn acme() -> AccountId {
    AccountId::parse("acme").expect("slug")
}

/// A server and an account administrator's token for SCIM and people, who sees both sides
/// of every identity.
async fn administrator(backend: Backend) -> (TestServer, String) {
    provisioning(
        backend,
        "account_administrator",
        &["scim:write", "people:write"],
    )
    .await
}

async fn post_user(server: &TestServer, token: &str, user: &Value) -> reqwest::Response {
    server
        .post("/scim/v2/Users", token)
        .json(user)
        .send()
        .await
        .expect("request")
}

async fn create_user(server: &TestServer, token: &str, user: &Value) -> Value {
    let response = post_user(server, token, user).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{user}");
    json_body(response).await
}

/// The ids of the Users a filter selects.
async fn filtered(server: &TestServer, token: &str, filter: &str) -> Vec<String> {
    let encoded: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    let response = server
        .get(&format!("/scim/v2/Users?filter={encoded}"), token)
        .expect_status_for(StatusCode::OK, filter)
        .await;
    texts(&json_body(response).await["Resources"], "/id")
}

async fn user_count(server: &TestServer, token: &str) -> u64 {
    server.get("/scim/v2/Users", token).json_answer().await["totalResults"]
        .as_u64()
        .expect("totalResults")
}

async fn look_alike_user_names_are_409_uniqueness(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let bob = create_user(&server, &token, &json!({ "userName": "Bob.Strasse" })).await;
    assert_eq!(
        bob["userName"], "Bob.Strasse",
        "stored and returned as sent"
    );

    for look_alike in [
        "ｂｏｂ.ｓｔｒａｓｓｅ",
        "BOB.STRASSE",
        "bob.straße",
        "  Bob.Strasse ",
        "\u{1D41B}ob.Strasse",
    ] {
        let response = post_user(&server, &token, &json!({ "userName": look_alike })).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{look_alike:?}");
        let error = json_body(response).await;
        assert_eq!(error["scimType"], "uniqueness", "{look_alike:?}");
    }
    assert_eq!(user_count(&server, &token).await, 1, "nothing was stored");

    // Renaming another User onto a look-alike is refused too.
    let alice = create_user(&server, &token, &json!({ "userName": "alice" })).await;
    let response = server
        .put(
            &format!("/scim/v2/Users/{}", alice["id"].as_str().expect("id")),
            &token,
        )
        .json(&json!({ "userName": "ＢＯＢ.ＳＴＲＡＳＳＥ" }))
        .expect_status(StatusCode::CONFLICT)
        .await;
    assert_eq!(json_body(response).await["scimType"], "uniqueness");

    // A compatibility ligature is stored as sent but keyed as its letters.
    let fi = create_user(&server, &token, &json!({ "userName": "ﬁona" })).await;
    assert_eq!(fi["userName"], "ﬁona", "the ligature is stored as sent");
    let response = post_user(&server, &token, &json!({ "userName": "FIONA" })).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "but keyed as fi");
}

async fn filters_find_users_by_their_folded_user_name(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let bob = create_user(&server, &token, &json!({ "userName": "bob" })).await;
    let bob_id = bob["id"].as_str().expect("id").to_owned();
    let kelvin = create_user(&server, &token, &json!({ "userName": "\u{212A}elvin" })).await;
    let kelvin_id = kelvin["id"].as_str().expect("id").to_owned();

    for filter in [
        r#"userName eq "ＢＯＢ""#,
        r#"userName eq "Bob""#,
        r#"userName eq " bob ""#,
        r#"userName sw "ＢＯ""#,
        r#"userName ew "OB""#,
        r#"userName co "ｏ""#,
    ] {
        assert_eq!(
            filtered(&server, &token, filter).await,
            vec![bob_id.clone()],
            "{filter}"
        );
    }
    assert_eq!(
        filtered(&server, &token, r#"userName eq "kelvin""#).await,
        vec![kelvin_id]
    );
    // Substring operands keep their spaces: " bob" is not in "bob".
    assert!(
        filtered(&server, &token, r#"userName sw " bob""#)
            .await
            .is_empty()
    );
}

async fn look_alike_emails_take_no_other_persons_primary_email(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let first = create_user(
        &server,
        &token,
        &json!({ "userName": "carol", "emails": [{ "value": "carol@example.com", "primary": true }] }),
    )
    .await;
    let holder = server
        .services
        .person_by_email(&acme(), "carol@example.com")
        .await
        .expect("the first User's person holds the email");

    // A second User with a fullwidth, upper-case look-alike of that email is provisioned (SCIM
    // emails are not unique), but its person does not get the address.
    let second = create_user(
        &server,
        &token,
        &json!({ "userName": "carol2", "emails": [{ "value": " ＣＡＲＯＬ@example.com", "primary": true }] }),
    )
    .await;
    assert_eq!(
        second["emails"][0]["value"], " ＣＡＲＯＬ@example.com",
        "the User keeps the email as sent"
    );
    assert_ne!(first["id"], second["id"]);
    let found = server
        .services
        .person_by_email(&acme(), "ｃａｒｏｌ@EXAMPLE.com")
        .await
        .expect("found by a look-alike");
    assert_eq!(found.id, holder.id, "still the first person's");
    assert_eq!(found.primary_email.as_deref(), Some("carol@example.com"));

    // By REST, a look-alike primary email is taken as well.
    server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Carol Copy", "primary_email": "Carol@ＥＸＡＭＰＬＥ.com" }))
        .expect_status(StatusCode::CONFLICT)
        .await;
}

async fn invisible_characters_are_refused_and_nothing_is_stored(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let events_before = server.event_names("acme", "").await.len();
    for (user, detail) in [
        (
            json!({ "userName": "bob\u{200B}" }),
            "userName contains U+200B, an invisible or control character, which it may not",
        ),
        (
            json!({ "userName": "\u{FEFF}bob" }),
            "userName contains U+FEFF, an invisible or control character, which it may not",
        ),
        (
            json!({ "userName": "bob", "emails": [{ "value": "bo\u{200D}b@example.com" }] }),
            "emails[0].value contains U+200D, an invisible or control character, which it may not",
        ),
        (
            json!({ "userName": "bob", "emails": [{ "value": "bob@example.com" }, { "value": "bob@\u{202E}moc.elpmaxe" }] }),
            "emails[1].value contains U+202E, an invisible or control character, which it may not",
        ),
    ] {
        let response = post_user(&server, &token, &user).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{user}");
        let error = json_body(response).await;
        assert_eq!(error["scimType"], "invalidValue", "{user}");
        assert_eq!(error["detail"], detail, "{user}");
    }
    assert_eq!(user_count(&server, &token).await, 0, "no User was stored");
    assert!(
        server
            .services
            .person_by_email(&acme(), "bob@example.com")
            .await
            .is_err(),
        "no person was made"
    );
    assert_eq!(server.event_names("acme", "").await.len(), events_before);

    // A PATCH that would bring one in is refused the same way, and changes nothing.
    let bob = create_user(&server, &token, &json!({ "userName": "bob" })).await;
    let path = format!("/scim/v2/Users/{}", bob["id"].as_str().expect("id"));
    let response = server
        .patch(&path, &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": "userName", "value": "bob\u{2060}" }]
        }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(response).await["scimType"], "invalidValue");
    let stored = server.get(&path, &token).json_answer().await;
    assert_eq!(stored["userName"], "bob");
    assert_eq!(stored["meta"]["version"], "W/\"1\"");

    // Groups: a zero-width display name is refused.
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({ "displayName": "Admins\u{200B}" }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    let error = json_body(response).await;
    assert_eq!(error["scimType"], "invalidValue");
    assert_eq!(
        error["detail"],
        "displayName contains U+200B, an invisible or control character, which it may not"
    );
}

async fn rest_people_refuse_invisible_characters_with_422(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let response = server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Dana\u{200E}", "primary_email": "dana\u{200B}@example.org" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    let error = json_body(response).await;
    assert!(error["message"].is_string());
    assert_eq!(
        error["errors"],
        json!([
            "name contains U+200E, an invisible or control character",
            "primary_email contains U+200B, an invisible or control character"
        ])
    );
    assert!(
        server
            .services
            .person_by_email(&acme(), "dana@example.org")
            .await
            .is_err()
    );

    // Stored as sent (trimmed, as REST always trimmed), keyed folded.
    let response = server
        .post("/v1/people", &token)
        .json(&json!({ "name": "Dana", "primary_email": "Ｄａｎａ@example.org" }))
        .expect_status(StatusCode::CREATED)
        .await;
    let dana = json_body(response).await;
    assert_eq!(dana["primary_email"], "Ｄａｎａ@example.org");
    let path = format!("/v1/people/{}", dana["id"].as_str().expect("id"));
    let response = server
        .patch(&path, &token)
        .json(&json!({ "primary_email": "da\u{AD}na@example.org" }))
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    assert_eq!(
        json_body(response).await["errors"],
        json!(["primary_email contains U+00AD, an invisible or control character"])
    );
}

/// Rows provisioned before the fold (`bob` and `ｂｏｂ`, keyed by the old lower-casing) are
/// recomputed by `Store::migrate`: no error, both readable, the clash reported, the oldest
/// found by a filter, and the later one still updatable under its name.
async fn the_key_migration_reports_clashes_instead_of_failing(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let database = server.database();
    let bob = create_user(
        &server,
        &token,
        &json!({ "userName": "bob", "emails": [{ "value": "bob@example.com" }] }),
    )
    .await;
    // Park bob's keys so the look-alike can be provisioned, as it could be before the fold.
    database
        .execute("UPDATE scim_users SET user_name_key = 'parked' WHERE user_name = 'bob'")
        .await;
    database
        .execute(
            "UPDATE people SET primary_email_key = 'parked' \
             WHERE primary_email = 'bob@example.com'",
        )
        .await;
    server.clock.advance(chrono::Duration::seconds(1));
    let twin = create_user(
        &server,
        &token,
        &json!({ "userName": "ｂｏｂ", "emails": [{ "value": "ＢＯＢ@example.com" }] }),
    )
    .await;
    // The keys as the old lower-casing made them.
    for sql in [
        "UPDATE scim_users SET user_name_key = 'ｂｏｂ' WHERE user_name = 'ｂｏｂ'",
        "UPDATE scim_users SET user_name_key = 'bob' WHERE user_name = 'bob'",
        "UPDATE people SET primary_email_key = 'ｂｏｂ@example.com' \
         WHERE primary_email = 'ＢＯＢ@example.com'",
        "UPDATE people SET primary_email_key = 'bob@example.com' \
         WHERE primary_email = 'bob@example.com'",
        "UPDATE key_fold_version SET version = 0",
    ] {
        database.execute(sql).await;
    }
    let bob_person = server
        .services
        .person_by_email(&acme(), "bob@example.com")
        .await
        .expect("bob's person");

    let report = server.services.store.migrate().await.expect("no error");
    assert_eq!(report.keys_refolded, Some((0, scim::text::FOLD_VERSION)));
    let clashes: Vec<(KeyKind, String, String, String)> = report
        .key_clashes
        .iter()
        .map(|clash| {
            (
                clash.kind,
                clash.account_id.clone(),
                clash.kept.to_string(),
                clash.keyed_apart.to_string(),
            )
        })
        .collect();
    let twin_person = report
        .key_clashes
        .iter()
        .find(|clash| clash.kind == KeyKind::PrimaryEmail)
        .expect("the email clash")
        .keyed_apart;
    assert_eq!(
        clashes,
        vec![
            (
                KeyKind::UserName,
                "acme".to_owned(),
                bob["id"].as_str().expect("id").to_owned(),
                twin["id"].as_str().expect("id").to_owned(),
            ),
            (
                KeyKind::PrimaryEmail,
                "acme".to_owned(),
                bob_person.id.0.to_string(),
                twin_person.to_string(),
            ),
        ]
    );

    // Both readable, as sent.
    for (user, name) in [(&bob, "bob"), (&twin, "ｂｏｂ")] {
        let path = format!("/scim/v2/Users/{}", user["id"].as_str().expect("id"));
        let response = server
            .get(&path, &token)
            .expect_status(StatusCode::OK)
            .await;
        assert_eq!(json_body(response).await["userName"], name);
    }
    // Lookups find the oldest.
    let bob_id = bob["id"].as_str().expect("id").to_owned();
    assert_eq!(
        filtered(&server, &token, r#"userName eq "bob""#).await,
        vec![bob_id.clone()]
    );
    assert_eq!(
        filtered(&server, &token, r#"userName eq "ＢＯＢ""#).await,
        vec![bob_id]
    );
    let found = server
        .services
        .person_by_email(&acme(), "ＢＯＢ@example.com")
        .await
        .expect("person");
    assert_eq!(found.id, bob_person.id);

    // The later one can still be deactivated under its name.
    let twin_path = format!("/scim/v2/Users/{}", twin["id"].as_str().expect("id"));
    let response = server
        .patch(&twin_path, &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": "active", "value": false }]
        }))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["active"], false);

    // Once done, migrating again changes and reports nothing.
    let again = server.services.store.migrate().await.expect("no error");
    assert_eq!(again, gatehouse::store::MigrationReport::default());
}

/// Group names are unique through a claim key (migration 0020). When a stronger fold makes two
/// claimed names look alike, the key migration lets the older keep the claim and the later give
/// it up, as groups that shared a name before names were unique: reported, both readable, the
/// later still writable, and no third group may take the name.
async fn the_key_migration_lets_a_look_alike_group_name_go_unclaimed(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let database = server.database();
    let create_group = |name: &'static str| {
        let request = server
            .post("/scim/v2/Groups", &token)
            .json(&json!({ "displayName": name }));
        async move { json_body(request.expect_status(StatusCode::CREATED).await).await }
    };
    let ops = create_group("Ops").await;
    database
        .execute(
            "UPDATE scim_groups SET display_name_key = 'parked', unique_name_key = 'parked' \
             WHERE display_name = 'Ops'",
        )
        .await;
    server.clock.advance(chrono::Duration::seconds(1));
    let twin = create_group("ＯＰＳ").await;
    // The keys as the old lower-casing made them.
    for sql in [
        "UPDATE scim_groups SET display_name_key = 'ｏｐｓ', unique_name_key = 'ｏｐｓ' \
         WHERE display_name = 'ＯＰＳ'",
        "UPDATE scim_groups SET display_name_key = 'ops', unique_name_key = 'ops' \
         WHERE display_name = 'Ops'",
        "UPDATE key_fold_version SET version = 0",
    ] {
        database.execute(sql).await;
    }
    let report = server.services.store.migrate().await.expect("no error");
    let clashes: Vec<(KeyKind, String, String)> = report
        .key_clashes
        .iter()
        .map(|clash| {
            (
                clash.kind,
                clash.kept.to_string(),
                clash.keyed_apart.to_string(),
            )
        })
        .collect();
    let id = |group: &Value| group["id"].as_str().expect("id").to_owned();
    assert_eq!(clashes, [(KeyKind::GroupName, id(&ops), id(&twin))]);

    let twin_path = format!("/scim/v2/Groups/{}", id(&twin));
    let response = server
        .patch(&twin_path, &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": "externalId", "value": "t-1" }]
        }))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(response).await["displayName"], "ＯＰＳ");
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({ "displayName": "oPs" }))
        .expect_status(StatusCode::CONFLICT)
        .await;
    assert_eq!(json_body(response).await["scimType"], "uniqueness");
}

/// Custom field values (migration 0020) are keyed like every case-insensitive value, and the
/// key migration recomputes their keys too.
async fn the_key_migration_refolds_custom_field_values(backend: Backend) {
    let (server, token) = administrator(backend).await;
    let custom = "urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields";
    let ada = create_user(
        &server,
        &token,
        &json!({ "userName": "ada", custom: { "payroll_id": "Ｐ-1" } }),
    )
    .await;
    let filter = format!("{custom}:payroll_id eq \"p-1\"");
    let ada_id = ada["id"].as_str().expect("id").to_owned();
    assert_eq!(
        filtered(&server, &token, &filter).await,
        vec![ada_id.clone()]
    );
    for sql in [
        "UPDATE scim_user_custom_fields SET value_key = 'ｐ-1'",
        "UPDATE key_fold_version SET version = 0",
    ] {
        server.database().execute(sql).await;
    }
    assert!(
        filtered(&server, &token, &filter).await.is_empty(),
        "keyed the old way"
    );
    server.services.store.migrate().await.expect("no error");
    assert_eq!(filtered(&server, &token, &filter).await, vec![ada_id]);
}

both_backends!(
    the_key_migration_refolds_custom_field_values,
    the_key_migration_lets_a_look_alike_group_name_go_unclaimed,
    look_alike_user_names_are_409_uniqueness,
    filters_find_users_by_their_folded_user_name,
    look_alike_emails_take_no_other_persons_primary_email,
    invisible_characters_are_refused_and_nothing_is_stored,
    rest_people_refuse_invisible_characters_with_422,
    the_key_migration_reports_clashes_instead_of_failing,
);
