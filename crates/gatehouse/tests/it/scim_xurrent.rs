//! Xurrent's (formerly 4me's) SCIM attributes end to end on both backends: the Enterprise User
//! additions `site`, `location` and `supportID`, the custom fields extension, `groups` on Users,
//! a core `groupType`, unique Group names, `userType` VIP, and the pre-RFC member removal.

use crate::common::{Backend, RequestExt, TestServer, json_body, provisioning};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CUSTOM: &str = "urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields";

async fn create_user(server: &TestServer, token: &str, user: &Value) -> Value {
    let response = server
        .post("/scim/v2/Users", token)
        .json(user)
        .expect_status_for(StatusCode::CREATED, user)
        .await;
    json_body(response).await
}

/// The `userName`s a `/Users` list answers with, in order.
async fn user_names(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let response = server
        .get(&format!("/scim/v2/Users?{query}"), token)
        .expect_status_for(StatusCode::OK, query)
        .await;
    let list = json_body(response).await;
    list["Resources"]
        .as_array()
        .map(|users| {
            users
                .iter()
                .filter_map(|user| user["userName"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts an answer is a SCIM error of `status` with `scim_type` whose detail mentions
/// `mentions`, and returns the detail.
async fn assert_scim_error(
    response: reqwest::Response,
    status: StatusCode,
    scim_type: &str,
    mentions: &str,
) -> String {
    assert_eq!(response.status(), status);
    let error = json_body(response).await;
    assert_eq!(
        error["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(error["status"], status.as_str(), "{error}");
    assert_eq!(error["scimType"], scim_type, "{error}");
    let detail = error["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains(mentions),
        "{detail:?} should mention {mentions:?}"
    );
    detail
}

fn encoded(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

async fn enterprise_site_location_and_support_id_are_stored_filtered_and_sorted(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    for (name, site, location, support) in [
        ("ada@example.org", "Amsterdam", "Floor 3", "S-200"),
        ("bob@example.org", "Berlin", "Floor 1", "S-100"),
        ("cy@example.org", "amsterdam", "Floor 2", "S-300"),
    ] {
        let user = create_user(
            &server,
            &token,
            &json!({"schemas": [USER, ENTERPRISE], "userName": name,
                ENTERPRISE: {"site": site, "location": location, "supportID": support}}),
        )
        .await;
        assert_eq!(user[ENTERPRISE]["site"], site);
        assert_eq!(user[ENTERPRISE]["supportID"], support);
        let fetched = server
            .get(
                &format!("/scim/v2/Users/{}", user["id"].as_str().unwrap_or_default()),
                &token,
            )
            .json_answer()
            .await;
        assert_eq!(fetched[ENTERPRISE]["location"], location);
    }
    let site = encoded(&format!("{ENTERPRISE}:site eq \"AMSTERDAM\""));
    assert_eq!(
        user_names(&server, &token, &format!("filter={site}&sortBy=userName")).await,
        ["ada@example.org", "cy@example.org"],
        "site compares ignoring case"
    );
    let support = encoded(&format!("{ENTERPRISE}:supportID sw \"S-1\""));
    assert_eq!(
        user_names(&server, &token, &format!("filter={support}")).await,
        ["bob@example.org"]
    );
    let location = encoded(&format!("{ENTERPRISE}:location co \"floor\""));
    let sort = encoded(&format!("{ENTERPRISE}:location"));
    assert_eq!(
        user_names(
            &server,
            &token,
            &format!("filter={location}&sortBy={sort}&sortOrder=descending")
        )
        .await,
        ["ada@example.org", "cy@example.org", "bob@example.org"]
    );
    let by_support = encoded(&format!("{ENTERPRISE}:supportID"));
    assert_eq!(
        user_names(&server, &token, &format!("sortBy={by_support}")).await,
        ["bob@example.org", "ada@example.org", "cy@example.org"]
    );

    // /Schemas declares them in the enterprise extension.
    let schema = server
        .get(&format!("/scim/v2/Schemas/{ENTERPRISE}"), &token)
        .json_answer()
        .await;
    let names: Vec<&str> = schema["attributes"]
        .as_array()
        .map(|attributes| {
            attributes
                .iter()
                .filter_map(|attribute| attribute["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for name in ["site", "location", "supportID"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

async fn custom_fields_in_both_shapes_are_stored_returned_flat_and_filterable(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    // The flat shape, without the URN in `schemas` (Xurrent's clients don't list it).
    let ada = create_user(
        &server,
        &token,
        &json!({"schemas": [USER], "userName": "ada@example.org",
            CUSTOM: {"payroll_id": "P-1", "year_of_birth": 1975, "remote": true}}),
    )
    .await;
    assert_eq!(
        ada[CUSTOM],
        json!({"payroll_id": "P-1", "year_of_birth": 1975, "remote": true}),
        "values keep their JSON type"
    );
    assert_eq!(ada["schemas"], json!([USER, CUSTOM]));
    // The list shape.
    let bob = create_user(
        &server,
        &token,
        &json!({"userName": "bob@example.org", CUSTOM: {"custom_fields": [
            {"id": "payroll_id", "value": "P-2"}, {"id": "year_of_birth", "value": 1980}
        ]}}),
    )
    .await;
    assert_eq!(
        bob[CUSTOM],
        json!({"payroll_id": "P-2", "year_of_birth": 1980})
    );
    let fetched = server
        .get(
            &format!("/scim/v2/Users/{}", bob["id"].as_str().unwrap_or_default()),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(fetched[CUSTOM], bob[CUSTOM]);
    create_user(&server, &token, &json!({"userName": "cy@example.org"})).await;

    for (filter, expected) in [
        (
            format!("{CUSTOM}:payroll_id eq \"p-1\""),
            vec!["ada@example.org"],
        ),
        (
            format!("{CUSTOM}:PAYROLL_ID sw \"P-\""),
            vec!["ada@example.org", "bob@example.org"],
        ),
        (
            format!("{CUSTOM}:year_of_birth eq 1980"),
            vec!["bob@example.org"],
        ),
        (format!("{CUSTOM}:remote eq true"), vec!["ada@example.org"]),
        (format!("{CUSTOM}:remote pr"), vec!["ada@example.org"]),
        (
            format!("not ({CUSTOM}:payroll_id pr)"),
            vec!["cy@example.org"],
        ),
        (format!("{CUSTOM}:unknown_field eq \"x\""), vec![]),
    ] {
        let query = format!("filter={}&sortBy=userName", encoded(&filter));
        assert_eq!(
            user_names(&server, &token, &query).await,
            expected,
            "{filter}"
        );
    }
    let sort = encoded(&format!("{CUSTOM}:payroll_id"));
    let present = encoded(&format!("{CUSTOM}:payroll_id pr"));
    assert_eq!(
        user_names(
            &server,
            &token,
            &format!("filter={present}&sortBy={sort}&sortOrder=descending")
        )
        .await,
        ["bob@example.org", "ada@example.org"]
    );
    // Ordering compares text, so it needs a string; a number is refused, clearly.
    let ordered = encoded(&format!("{CUSTOM}:year_of_birth gt 1970"));
    let response = server
        .get(&format!("/scim/v2/Users?filter={ordered}"), &token)
        .send()
        .await
        .expect("request");
    assert_scim_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalidFilter",
        "needs a string",
    )
    .await;
    // An attribute projection can name a custom field.
    let only = server
        .get(
            &format!(
                "/scim/v2/Users/{}?attributes={}",
                ada["id"].as_str().unwrap_or_default(),
                encoded(&format!("{CUSTOM}:payroll_id"))
            ),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(only[CUSTOM], json!({"payroll_id": "P-1"}));
    let whole = server
        .get(
            &format!(
                "/scim/v2/Users/{}?attributes={}",
                ada["id"].as_str().unwrap_or_default(),
                encoded(CUSTOM)
            ),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(whole[CUSTOM], ada[CUSTOM]);
    assert!(whole.get("userName").is_none(), "{whole}");
    let without = server
        .get(
            &format!(
                "/scim/v2/Users/{}?excludedAttributes={}",
                ada["id"].as_str().unwrap_or_default(),
                encoded(CUSTOM)
            ),
            &token,
        )
        .json_answer()
        .await;
    assert!(without.get(CUSTOM).is_none(), "{without}");
    assert_eq!(without["userName"], "ada@example.org");
}

async fn custom_fields_are_patched_by_path_and_as_a_whole(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = create_user(
        &server,
        &token,
        &json!({"userName": "ada@example.org", CUSTOM: {"payroll_id": "P-1", "team": "a"}}),
    )
    .await;
    let location = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap_or_default());
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let patched = |operations: Value| {
        let server = &server;
        let token = &token;
        let location = &location;
        let body = patch(operations);
        async move {
            let response = server
                .patch(location, token)
                .json(&body)
                .expect_status_for(StatusCode::OK, &body)
                .await;
            json_body(response).await
        }
    };
    let user = patched(json!([
        {"op": "replace", "path": format!("{CUSTOM}:payroll_id"), "value": "P-9"},
        {"op": "add", "path": format!("{CUSTOM}:year_of_birth"), "value": 1975},
        {"op": "remove", "path": format!("{CUSTOM}:team")}
    ]))
    .await;
    assert_eq!(
        user[CUSTOM],
        json!({"payroll_id": "P-9", "year_of_birth": 1975})
    );
    let filter = encoded(&format!("{CUSTOM}:payroll_id eq \"P-9\""));
    assert_eq!(
        user_names(&server, &token, &format!("filter={filter}")).await,
        ["ada@example.org"],
        "the filter rows follow a PATCH"
    );
    // The whole extension: the list shape updates the fields it names, in a path-less add too.
    let user = patched(json!([
        {"op": "add", "path": CUSTOM, "value": {"custom_fields": [{"id": "payroll_id", "value": "P-10"}]}},
        {"op": "add", "value": {CUSTOM: {"site_code": "AMS"}}}
    ]))
    .await;
    assert_eq!(
        user[CUSTOM],
        json!({"payroll_id": "P-10", "year_of_birth": 1975, "site_code": "AMS"})
    );
    // Removing the whole extension drops every field, and the URN from `schemas`.
    let user = patched(json!([{"op": "remove", "path": CUSTOM}])).await;
    assert!(user.get(CUSTOM).is_none(), "{user}");
    assert_eq!(user["schemas"], json!([USER]));
    assert!(
        user_names(&server, &token, &format!("filter={filter}"))
            .await
            .is_empty()
    );
    // A field added by path to a User without the extension brings the extension back.
    let user = patched(json!([
        {"op": "add", "path": format!("{CUSTOM}:payroll_id"), "value": "P-12"}
    ]))
    .await;
    assert_eq!(user[CUSTOM], json!({"payroll_id": "P-12"}));
    assert_eq!(user["schemas"], json!([USER, CUSTOM]));
    // PUT replaces them like any attribute.
    let replaced = server
        .put(&location, &token)
        .json(&json!({"userName": "ada@example.org", CUSTOM: {"payroll_id": "P-11"}}))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(
        json_body(replaced).await[CUSTOM],
        json!({"payroll_id": "P-11"})
    );
}

async fn custom_field_limits_are_invalid_values(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let many: serde_json::Map<String, Value> =
        (0..101).map(|n| (format!("field_{n}"), json!(n))).collect();
    let hundred: serde_json::Map<String, Value> =
        (0..100).map(|n| (format!("field_{n}"), json!(n))).collect();
    for (fields, mentions) in [
        (Value::Object(many), "at most 100 custom fields"),
        (json!({"1st": "x"}), "is not a custom field id"),
        (json!({"a.b": "x"}), "is not a custom field id"),
        (json!({"a".repeat(65): "x"}), "is not a custom field id"),
        (json!({"notes": "x".repeat(4095)}), "at most 4096"),
        (
            json!({"custom_fields": [{"value": "no id"}]}),
            "string \"id\"",
        ),
        (
            json!({"custom_fields": [{"id": "a", "value": 1}, {"id": "A", "value": 2}]}),
            "listed twice",
        ),
        (json!("flat text"), "must be an object"),
    ] {
        let body = json!({"userName": "ada@example.org", CUSTOM: fields});
        let response = server
            .post("/scim/v2/Users", &token)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_scim_error(response, StatusCode::BAD_REQUEST, "invalidValue", mentions).await;
    }
    // The limits themselves are allowed.
    let mut fields = hundred;
    fields.insert("field_0".to_owned(), json!("x".repeat(4094)));
    fields.insert("a".repeat(64), json!(null));
    let user = create_user(
        &server,
        &token,
        &json!({"userName": "ada@example.org", CUSTOM: fields}),
    )
    .await;
    assert_eq!(
        user[CUSTOM].as_object().map(serde_json::Map::len),
        Some(100)
    );
}

async fn discovery_declares_the_custom_fields_extension(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:read"]).await;
    let resource_type = server
        .get("/scim/v2/ResourceTypes/User", &token)
        .json_answer()
        .await;
    assert_eq!(
        resource_type["schemaExtensions"],
        json!([
            {"schema": ENTERPRISE, "required": false},
            {"schema": CUSTOM, "required": false}
        ])
    );
    let schema = server
        .get(&format!("/scim/v2/Schemas/{CUSTOM}"), &token)
        .json_answer()
        .await;
    assert_eq!(schema["id"], CUSTOM);
    assert_eq!(schema["attributes"], json!([]));
}

async fn create_group(server: &TestServer, token: &str, group: &Value) -> Value {
    let response = server
        .post("/scim/v2/Groups", token)
        .json(group)
        .expect_status_for(StatusCode::CREATED, group)
        .await;
    json_body(response).await
}

fn id_of(resource: &Value) -> String {
    resource["id"].as_str().unwrap_or_default().to_owned()
}

async fn users_show_their_groups_read_only(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    // `groups` sent on create is read-only: ignored, not refused.
    let ada = create_user(
        &server,
        &token,
        &json!({"userName": "ada@example.org", "groups": [{"value": "made-up"}]}),
    )
    .await;
    assert!(ada.get("groups").is_none(), "{ada}");
    let bob = create_user(&server, &token, &json!({"userName": "bob@example.org"})).await;
    let (ada_id, bob_id) = (id_of(&ada), id_of(&bob));
    let writers = create_group(
        &server,
        &token,
        &json!({"displayName": "Writers", "members": [{"value": ada_id}, {"value": bob_id}]}),
    )
    .await;
    let analysts = create_group(
        &server,
        &token,
        &json!({"displayName": "Analysts", "members": [{"value": ada_id}]}),
    )
    .await;
    let group = |group: &Value, name: &str| {
        json!({
            "value": id_of(group),
            "$ref": format!("{}/scim/v2/Groups/{}", server.base_url, id_of(group)),
            "display": name,
            "type": "direct",
        })
    };
    let ada_groups = json!([group(&analysts, "Analysts"), group(&writers, "Writers")]);
    let ada_location = format!("/scim/v2/Users/{ada_id}");
    let fetched = server.get(&ada_location, &token).json_answer().await;
    assert_eq!(fetched["groups"], ada_groups, "ordered by name");

    // Lists and searches show them, one page at a time, and projections apply.
    let list = server
        .get("/scim/v2/Users?sortBy=userName", &token)
        .json_answer()
        .await;
    assert_eq!(list["Resources"][0]["groups"], ada_groups);
    assert_eq!(
        list["Resources"][1]["groups"],
        json!([group(&writers, "Writers")])
    );
    let search = server
        .post("/scim/v2/Users/.search", &token)
        .json(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName eq \"bob@example.org\"", "attributes": ["groups"]}),
        )
        .json_answer()
        .await;
    assert_eq!(
        search["Resources"][0],
        json!({"id": bob_id, "schemas": [USER], "groups": [group(&writers, "Writers")]})
    );
    let without = server
        .get(&format!("{ada_location}?excludedAttributes=groups"), &token)
        .json_answer()
        .await;
    assert!(without.get("groups").is_none(), "{without}");
    let only = server
        .get(&format!("{ada_location}?attributes=groups.display"), &token)
        .json_answer()
        .await;
    assert_eq!(
        only["groups"],
        json!([{"display": "Analysts"}, {"display": "Writers"}])
    );

    // A PUT that sends other groups changes nothing about them; its answer shows the real ones.
    let replaced = server
        .put(&ada_location, &token)
        .json(&json!({"userName": "ada@example.org", "groups": [{"value": id_of(&writers)}]}))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(replaced).await["groups"], ada_groups);
    // A PATCH of them is refused: membership changes through the Group.
    for operation in [
        json!({"op": "add", "path": "groups", "value": [{"value": id_of(&writers)}]}),
        json!({"op": "remove", "path": "groups"}),
        json!({"op": "replace", "value": {"groups": []}}),
    ] {
        let response = server
            .patch(&ada_location, &token)
            .json(
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [operation]}),
            )
            .send()
            .await
            .expect("request");
        assert_scim_error(response, StatusCode::BAD_REQUEST, "mutability", "groups").await;
    }
    // A renamed group is shown under its new name.
    server
        .patch(&format!("/scim/v2/Groups/{}", id_of(&writers)), &token)
        .json(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Authors"}]}),
        )
        .expect_status(StatusCode::OK)
        .await;
    let bob_now = server
        .get(&format!("/scim/v2/Users/{bob_id}"), &token)
        .json_answer()
        .await;
    assert_eq!(bob_now["groups"], json!([group(&writers, "Authors")]));
}

const GATEHOUSE_GROUP: &str = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// The displayNames a `/Groups` list answers with under `query`, in order.
async fn group_names(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let list = server
        .get(&format!("/scim/v2/Groups?{query}"), token)
        .json_answer()
        .await;
    list["Resources"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .filter_map(|group| group["displayName"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn a_core_group_type_is_accepted_normalised_and_filterable(backend: Backend) {
    let (server, token) = provisioning(
        backend,
        "directory_administrator",
        &["scim:read", "scim:write"],
    )
    .await;
    for (name, sent, stored) in [
        ("Service Desk", "Team", "team"),
        ("Acme Corp", "ORGANIZATION", "organization"),
        ("Network Experts", "Skill Pool", "skill_pool"),
        ("Head Office", "site", "site"),
        ("Approvers", "Approval Group", "Approval Group"),
    ] {
        let group = create_group(
            &server,
            &token,
            &json!({"displayName": name, "groupType": sent}),
        )
        .await;
        assert_eq!(group["groupType"], stored, "{sent}");
        let fetched = server
            .get(&format!("/scim/v2/Groups/{}", id_of(&group)), &token)
            .json_answer()
            .await;
        assert_eq!(fetched["groupType"], stored, "{sent}");
        let rest = server
            .get(&format!("/v1/scim_groups/{}", id_of(&group)), &token)
            .json_answer()
            .await;
        assert_eq!(rest["group_type"], stored, "the REST view shows it too");
    }
    // The extension keeps working, and filters see one type whichever way it was sent.
    create_group(
        &server,
        &token,
        &json!({"displayName": "Ops", GATEHOUSE_GROUP: {"groupType": "team"}}),
    )
    .await;
    let teams = encoded("groupType eq \"TEAM\"");
    assert_eq!(
        group_names(
            &server,
            &token,
            &format!("filter={teams}&sortBy=displayName")
        )
        .await,
        ["Ops", "Service Desk"]
    );
    let teams = encoded(&format!("{GATEHOUSE_GROUP}:groupType eq \"team\""));
    assert_eq!(
        group_names(
            &server,
            &token,
            &format!("filter={teams}&sortBy=displayName")
        )
        .await,
        ["Ops", "Service Desk"]
    );
    let other = encoded("groupType eq \"approval group\"");
    assert_eq!(
        group_names(&server, &token, &format!("filter={other}")).await,
        ["Approvers"]
    );
    // A PATCH may change it.
    let group = create_group(&server, &token, &json!({"displayName": "Field"})).await;
    let location = format!("/scim/v2/Groups/{}", id_of(&group));
    let patched = server
        .patch(&location, &token)
        .json(&patch_body(
            json!([{"op": "replace", "path": "groupType", "value": "Site"}]),
        ))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(patched).await["groupType"], "site");
    // Both spellings, differing: each is returned as sent; the group's type is the core one
    // when both are set at once, and the one a later write changes after that.
    let mixed = create_group(
        &server,
        &token,
        &json!({"displayName": "Mixed", "groupType": "site",
            GATEHOUSE_GROUP: {"groupType": "team"}}),
    )
    .await;
    assert_eq!(
        (&mixed["groupType"], &mixed[GATEHOUSE_GROUP]["groupType"]),
        (&json!("site"), &json!("team"))
    );
    let rest = format!("/v1/scim_groups/{}", id_of(&mixed));
    let type_of = || async { server.get(&rest, &token).json_answer().await["group_type"].clone() };
    assert_eq!(type_of().await, "site");
    let mixed_location = format!("/scim/v2/Groups/{}", id_of(&mixed));
    server
        .patch(&mixed_location, &token)
        .json(&patch_body(json!([{"op": "replace",
            "path": format!("{GATEHOUSE_GROUP}:groupType"), "value": "role"}])))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(type_of().await, "role", "the extension changed");
    server
        .patch(&mixed_location, &token)
        .json(&patch_body(
            json!([{"op": "replace", "path": "groupType", "value": "Team"}]),
        ))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(type_of().await, "team", "the core one changed");
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({"displayName": "Long", "groupType": "x".repeat(256)}))
        .send()
        .await
        .expect("request");
    assert_scim_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalidValue",
        "at most 255 characters",
    )
    .await;
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({"displayName": "Numbered", "groupType": 7}))
        .send()
        .await
        .expect("request");
    assert_scim_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalidValue",
        "groupType must be a string",
    )
    .await;
}

async fn group_names_are_unique_in_an_account_ignoring_case(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let ops = create_group(&server, &token, &json!({"displayName": "Operations"})).await;
    let other = create_group(&server, &token, &json!({"displayName": "Finance"})).await;
    let taken = |response: reqwest::Response| async move {
        assert_scim_error(
            response,
            StatusCode::CONFLICT,
            "uniqueness",
            "\"OPERATIONS\"",
        )
        .await;
    };
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({"displayName": "OPERATIONS"}))
        .send()
        .await
        .expect("request");
    taken(response).await;
    let finance = format!("/scim/v2/Groups/{}", id_of(&other));
    let response = server
        .put(&finance, &token)
        .json(&json!({"displayName": "OPERATIONS"}))
        .send()
        .await
        .expect("request");
    taken(response).await;
    let response = server
        .patch(&finance, &token)
        .json(&patch_body(
            json!([{"op": "replace", "path": "displayName", "value": "OPERATIONS"}]),
        ))
        .send()
        .await
        .expect("request");
    taken(response).await;
    // A group may restate or re-case its own name; another account may have the name.
    let ops_location = format!("/scim/v2/Groups/{}", id_of(&ops));
    let renamed = server
        .put(&ops_location, &token)
        .json(&json!({"displayName": "operations"}))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(json_body(renamed).await["displayName"], "operations");
    let globex = server.globex_admin_token(&["scim:write"]).await;
    create_group(&server, &globex, &json!({"displayName": "Operations"})).await;
    // /Schemas says so.
    let schema = server
        .get(
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
            &token,
        )
        .json_answer()
        .await;
    let display_name = schema["attributes"]
        .as_array()
        .and_then(|attributes| attributes.iter().find(|a| a["name"] == "displayName"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            display_name["uniqueness"].as_str(),
            display_name["caseExact"].as_bool()
        ),
        (Some("server"), Some(false))
    );

    // Concurrent creates of one name: exactly one wins, the others are 409 (the database's
    // unique index decides when the checks ran side by side).
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..6 {
        let request = server
            .post("/scim/v2/Groups", &token)
            .json(&json!({"displayName": if n % 2 == 0 { "Racers" } else { "RACERS" }}));
        attempts.spawn(async move { request.send().await.expect("request").status() });
    }
    let statuses = attempts.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| [StatusCode::CREATED, StatusCode::CONFLICT].contains(status)),
        "{statuses:?}"
    );
}

async fn groups_that_shared_a_name_before_keep_it_until_renamed(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let first = create_group(&server, &token, &json!({"displayName": "Support"})).await;
    let second = create_group(&server, &token, &json!({"displayName": "Support 2"})).await;
    // What a database written before migration 0020 holds: two groups of one name, no claims.
    server
        .database()
        .execute(
            "UPDATE scim_groups SET display_name = 'support', display_name_key = 'support' \
             WHERE display_name = 'Support 2'",
        )
        .await;
    server
        .database()
        .execute("UPDATE scim_groups SET unique_name_key = NULL")
        .await;
    let (first, second) = (
        format!("/scim/v2/Groups/{}", id_of(&first)),
        format!("/scim/v2/Groups/{}", id_of(&second)),
    );
    // Both stay readable and writable under the shared name.
    let user = create_user(&server, &token, &json!({"userName": "ada@example.org"})).await;
    for location in [&first, &second] {
        server
            .patch(location, &token)
            .json(&patch_body(json!([{"op": "add", "path": "members",
                "value": [{"value": id_of(&user)}]}])))
            .expect_status(StatusCode::OK)
            .await;
    }
    // No third may join them.
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({"displayName": "SUPPORT"}))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, "uniqueness", "SUPPORT").await;
    // Once one is renamed, the other's name is its own again and is held by the index.
    server
        .put(&second, &token)
        .json(&json!({"displayName": "Second line"}))
        .expect_status(StatusCode::OK)
        .await;
    server
        .put(&first, &token)
        .json(&json!({"displayName": "Support"}))
        .expect_status(StatusCode::OK)
        .await;
    let response = server
        .put(&second, &token)
        .json(&json!({"displayName": "support"}))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, "uniqueness", "support").await;
}

async fn xurrent_pre_rfc_member_deletion_removes_members(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let mut ids = Vec::new();
    for name in ["ada", "bob", "cy", "dee"] {
        let user = create_user(
            &server,
            &token,
            &json!({"userName": format!("{name}@example.org")}),
        )
        .await;
        ids.push(id_of(&user));
    }
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let group = create_group(
        &server,
        &token,
        &json!({"displayName": "Writers", "members": members}),
    )
    .await;
    let location = format!("/scim/v2/Groups/{}", id_of(&group));
    let member_ids = |group: &Value| -> Vec<String> {
        group["members"]
            .as_array()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|member| member["value"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut expected: Vec<String> = ids.clone();
    for (operation, removed) in [
        (
            json!({"op": "add", "path": "members", "value": [{"value": ids[0], "operation": "delete"}]}),
            0,
        ),
        (
            json!({"op": "replace", "path": "members", "value": [{"value": ids[1], "operation": "Delete"}]}),
            1,
        ),
        (
            json!({"op": "replace", "value": {"members": [{"value": ids[2], "operation": "delete"}]}}),
            2,
        ),
    ] {
        let response = server
            .patch(&location, &token)
            .json(&patch_body(json!([operation])))
            .expect_status_for(StatusCode::OK, &operation)
            .await;
        expected.retain(|id| *id != ids[removed]);
        let mut members = member_ids(&json_body(response).await);
        members.sort();
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(members, sorted, "{operation}");
    }
    // Mixed: one joins, one leaves, in the SCIM 1.1 way.
    let response = server
        .patch(&location, &token)
        .json(&patch_body(
            json!([{"op": "add", "path": "members", "value": [
                {"value": ids[3], "operation": "delete"}, {"value": ids[0]}
            ]}]),
        ))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(member_ids(&json_body(response).await), [ids[0].clone()]);
    let ada = server
        .get(&format!("/scim/v2/Users/{}", ids[3]), &token)
        .json_answer()
        .await;
    assert!(ada.get("groups").is_none(), "dee left the group: {ada}");
}

async fn user_type_vip_makes_the_person_a_vip(backend: Backend) {
    let (server, token) = provisioning(
        backend,
        "directory_administrator",
        &["scim:write", "people:read"],
    )
    .await;
    let acme = gatehouse::domain::AccountId::parse("acme").expect("slug");
    let user = create_user(
        &server,
        &token,
        &json!({"userName": "ada@example.org", "userType": "vip"}),
    )
    .await;
    let location = format!("/scim/v2/Users/{}", id_of(&user));
    let person_id = server
        .services
        .person_by_email(&acme, "ada@example.org")
        .await
        .expect("person")
        .id;
    let vip = || async {
        let person = server
            .get(&format!("/v1/people/{}", person_id.0), &token)
            .json_answer()
            .await;
        person["vip"].clone()
    };
    assert_eq!(vip().await, json!(true), "VIP in any case");
    assert_eq!(user["userType"], "vip", "the User keeps what was sent");
    for (operation, expected) in [
        (
            json!({"op": "replace", "path": "userType", "value": "Employee"}),
            false,
        ),
        (
            json!({"op": "replace", "path": "userType", "value": "VIP"}),
            true,
        ),
        (json!({"op": "remove", "path": "userType"}), false),
        (json!({"op": "add", "value": {"userType": "Vip"}}), true),
    ] {
        server
            .patch(&location, &token)
            .json(&patch_body(json!([operation])))
            .expect_status_for(StatusCode::OK, &operation)
            .await;
        assert_eq!(vip().await, json!(expected), "{operation}");
    }
    server
        .put(&location, &token)
        .json(&json!({"userName": "ada@example.org", "userType": "Contractor"}))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(vip().await, json!(false));
    // The person.update event carries it.
    let events = server
        .services
        .store
        .events_after(&acme, 0, 100)
        .await
        .expect("events");
    let vips: Vec<bool> = events
        .iter()
        .filter(|event| event.name == "person.update")
        .filter_map(|event| event.payload["vip"].as_bool())
        .collect();
    assert_eq!(vips, [false, true, false, true, false]);
}

both_backends!(
    user_type_vip_makes_the_person_a_vip,
    a_core_group_type_is_accepted_normalised_and_filterable,
    group_names_are_unique_in_an_account_ignoring_case,
    groups_that_shared_a_name_before_keep_it_until_renamed,
    xurrent_pre_rfc_member_deletion_removes_members,
    users_show_their_groups_read_only,
    enterprise_site_location_and_support_id_are_stored_filtered_and_sorted,
    custom_fields_in_both_shapes_are_stored_returned_flat_and_filterable,
    custom_fields_are_patched_by_path_and_as_a_whole,
    custom_field_limits_are_invalid_values,
    discovery_declares_the_custom_fields_extension,
);
