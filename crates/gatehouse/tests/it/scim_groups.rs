//! SCIM `/Groups` end to end on both backends: display name, group type and members, with
//! membership changed row by row.

use crate::common::{Backend, RequestExt, TestServer, json_body, provisioning, texts};
use reqwest::StatusCode;
use serde_json::{Value, json};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const GATEHOUSE_GROUP: &str = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn provisioning_with_users(backend: Backend) -> (TestServer, String, Vec<String>) {
    let (server, token) = provisioning(backend, "account_administrator", &["scim:write"]).await;
    let mut users = Vec::new();
    for name in ["ada", "bob", "cy"] {
        let user = server
            .post("/scim/v2/Users", &token)
            .json(&json!({ "userName": name, "displayName": name.to_uppercase() }))
            .json_answer()
            .await;
        users.push(user["id"].as_str().expect("id").to_owned());
    }
    (server, token, users)
}

/// POSTs `group` to `url` (`/Groups`, with a query or not); returns the answer and the
/// group's path.
async fn create_group(
    server: &TestServer,
    token: &str,
    url: &str,
    group: Value,
) -> (Value, String) {
    let group = server.post(url, token).json(&group).json_answer().await;
    let path = format!("/scim/v2/Groups/{}", group["id"].as_str().expect("id"));
    (group, path)
}

/// A PatchOp request of `operations`.
fn patch_op(operations: Value) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": operations })
}

/// The ids of a group's members, sorted.
fn member_ids(group: &Value) -> Vec<String> {
    let mut ids = texts(&group["members"], "/value");
    ids.sort();
    ids
}

/// The member `id` of a group.
fn member<'a>(group: &'a Value, id: &str) -> &'a Value {
    let members = group["members"].as_array().expect("members");
    let member = members.iter().find(|member| member["value"] == id);
    member.unwrap_or_else(|| panic!("{id} is no member of {group}"))
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).clone()).collect();
    ids.sort();
    ids
}

async fn create_group_with_members_and_group_type(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let response = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({
            "schemas": [GROUP, GATEHOUSE_GROUP],
            "displayName": "Tour Guides",
            "externalId": "g-1",
            GATEHOUSE_GROUP: { "groupType": "skill_pool" },
            "members": [{ "value": users[0] }, { "value": users[1], "type": "User" }]
        }))
        .expect_status(StatusCode::CREATED)
        .await;
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    let group = json_body(response).await;
    assert_eq!(group["displayName"], "Tour Guides");
    assert_eq!(group[GATEHOUSE_GROUP]["groupType"], "skill_pool");
    assert_eq!(member_ids(&group), sorted(&[&users[0], &users[1]]));
    let ada = member(&group, &users[0]);
    assert_eq!(
        (ada["display"].as_str(), ada["type"].as_str()),
        (Some("ADA"), Some("User"))
    );
    assert_eq!(
        ada["$ref"],
        format!("{}/scim/v2/Users/{}", server.base_url, users[0])
    );
    let fetched = server
        .get(
            &format!("/scim/v2/Groups/{}", group["id"].as_str().expect("id")),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(fetched, group);

    let plain = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({ "displayName": "Plain" }))
        .json_answer()
        .await;
    assert_eq!(plain["members"], json!([]));
    let filtered = server
            .get("/scim/v2/Groups?filter=urn:gatehouse:params:scim:schemas:extension:2.0:Group:groupType%20eq%20%22team%22", &token)
        .json_answer()
        .await;
    assert_eq!(
        (
            filtered["totalResults"].as_u64(),
            filtered["Resources"][0]["displayName"].as_str()
        ),
        (Some(1), Some("Plain")),
        "team is the default"
    );
}

async fn bad_groups_are_refused_with_scim_errors(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let outsider_token = server.globex_admin_token(&["scim:write"]).await;
    let foreign = server
        .post("/scim/v2/Users", &outsider_token)
        .json(&json!({ "userName": "zed" }))
        .json_answer()
        .await;
    for bad in [
        json!({ "members": [] }),
        json!({ "displayName": "X", GATEHOUSE_GROUP: { "groupType": "guild" } }),
        json!({ "displayName": "X", "members": [{ "value": "not-an-id" }] }),
        json!({ "displayName": "X", "members": [{ "value": foreign["id"] }] }),
    ] {
        let response = server
            .post("/scim/v2/Groups", &token)
            .json(&bad)
            .expect_status_for(StatusCode::BAD_REQUEST, &bad)
            .await;
        assert_eq!(
            json_body(response).await["scimType"],
            "invalidValue",
            "{bad}"
        );
    }
    let listed = server.get("/scim/v2/Groups", &token).json_answer().await;
    assert_eq!(listed["totalResults"], 0, "nothing was created");

    // A member named twice is one member; the first display given wins.
    let twice = server
        .post("/scim/v2/Groups", &token)
        .json(&json!({
            "displayName": "Twice",
            "members": [
                { "value": users[0], "display": "First" },
                { "value": users[1] },
                { "value": users[0], "display": "Second" }
            ]
        }))
        .expect_status(StatusCode::CREATED)
        .await;
    let twice = json_body(twice).await;
    assert_eq!(member_ids(&twice), sorted(&[&users[0], &users[1]]));
    assert_eq!(member(&twice, &users[0])["display"], "First");
}

/// Entra ID's membership churn: `Add` with a value array, `Remove` with a value filter, and
/// `Remove` with a value array (which must remove only those members, not all).
async fn patch_changes_membership_row_by_row(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let group = json!({ "displayName": "Ops", "members": [{ "value": users[0] }] });
    let (_, path) = create_group(&server, &token, "/scim/v2/Groups", group).await;

    let response = server
        .patch(&path, &token)
        .json(&patch_op(json!([{
            "op": "Add", "path": "members", "value": [{ "value": users[1] }, { "value": users[2] }]
        }])))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(
        member_ids(&json_body(response).await),
        sorted(&[&users[0], &users[1], &users[2]])
    );

    let remove_by_filter =
        json!([{ "op": "Remove", "path": format!("members[value eq \"{}\"]", users[0]) }]);
    let updated = server
        .patch(&path, &token)
        .json(&patch_op(remove_by_filter))
        .json_answer()
        .await;
    assert_eq!(member_ids(&updated), sorted(&[&users[1], &users[2]]));

    let remove_by_value =
        json!([{ "op": "Remove", "path": "members", "value": [{ "value": users[1] }] }]);
    let updated = server
        .patch(&path, &token)
        .json(&patch_op(remove_by_value))
        .json_answer()
        .await;
    assert_eq!(
        member_ids(&updated),
        vec![users[2].clone()],
        "only the named member goes"
    );

    let rename = json!([{ "op": "Replace", "path": "displayName", "value": "Operations" }]);
    let renamed = server
        .patch(&path, &token)
        .json(&patch_op(rename))
        .json_answer()
        .await;
    assert_eq!(
        (
            renamed["displayName"].as_str(),
            renamed["meta"]["version"].as_str()
        ),
        (Some("Operations"), Some("W/\"5\""))
    );
    assert_eq!(
        member_ids(&renamed),
        vec![users[2].clone()],
        "members untouched by a rename"
    );

    let by_member = server
        .get(
            &format!(
                "/scim/v2/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D",
                users[2]
            ),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(by_member["totalResults"], 1);

    server
        .delete(&format!("/scim/v2/Users/{}", users[2]), &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    let after = server.get(&path, &token).json_answer().await;
    assert_eq!(
        after["members"],
        json!([]),
        "a deleted User leaves its groups"
    );
}

async fn put_replaces_members_and_delete_removes_the_group(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let group = json!({ "displayName": "Ops", "members": [{ "value": users[0] }] });
    let (_, path) = create_group(&server, &token, "/scim/v2/Groups", group).await;
    let response = server
        .put(&path, &token)
        .header("if-match", "W/\"1\"")
        .json(&json!({ "displayName": "Ops", "members": [{ "value": users[1] }, { "value": users[2] }] }))
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(
        member_ids(&json_body(response).await),
        sorted(&[&users[1], &users[2]])
    );
    let response = server
        .get(&path, &token)
        .header("if-none-match", "W/\"2\"")
        .expect_status(StatusCode::NOT_MODIFIED)
        .await;
    assert_eq!(
        response.headers()["etag"],
        "W/\"2\"",
        "a 304 names the version it confirms"
    );
    server
        .delete(&path, &token)
        .header("if-match", "W/\"1\"")
        .expect_status(StatusCode::PRECONDITION_FAILED)
        .await;
    server
        .delete(&path, &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    server
        .get(&path, &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    let names = server.event_names("acme", "scim_group").await;
    assert_eq!(
        names,
        [
            "scim_group.create",
            "scim_group.update",
            "scim_group.delete"
        ]
    );
}

/// `POST /.search` at the root lists Users, then Groups, and pages across both.
async fn root_search_spans_users_and_groups(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    for name in ["Ops", "Sales"] {
        server
            .post("/scim/v2/Groups", &token)
            .json(&json!({ "displayName": name }))
            .send()
            .await
            .expect("request");
    }
    let search = |request: Value| {
        server
            .post("/scim/v2/.search", &token)
            .json(&request)
            .json_answer()
    };
    let groups_only = search(json!({ "filter": "displayName eq \"ops\"" })).await;
    assert_eq!(
        (
            groups_only["totalResults"].as_u64(),
            groups_only["Resources"][0]["meta"]["resourceType"].as_str()
        ),
        (Some(1), Some("Group"))
    );
    let users_only = search(json!({ "filter": "userName eq \"ada\"" })).await;
    assert_eq!(
        (
            users_only["totalResults"].as_u64(),
            users_only["Resources"][0]["id"].as_str()
        ),
        (Some(1), Some(users[0].as_str()))
    );
    let page = search(json!({ "startIndex": 3, "count": 2 })).await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(
        texts(&page["Resources"], "/meta/resourceType"),
        ["User", "Group"],
        "the third User, then the first Group"
    );
    let group_search = server
        .post("/scim/v2/Groups/.search", &token)
        .json(&json!({ "filter": "displayName sw \"s\"" }))
        .json_answer()
        .await;
    assert_eq!(group_search["Resources"][0]["displayName"], "Sales");
}

/// RFC 7644 §3.4.2.5 and §3.9: `attributes` and `excludedAttributes` on reads and writes, down
/// to sub-attributes. Excluding `members` also spares the server reading them (Entra asks for
/// groups with `excludedAttributes=members`).
async fn attributes_select_sub_attributes_and_excluded_members_are_left_out(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let (group, location) = create_group(
        &server,
        &token,
        "/scim/v2/Groups?excludedAttributes=members",
        json!({
            "displayName": "Tour Guides",
            "members": [{ "value": users[0] }, { "value": users[1] }]
        }),
    )
    .await;
    assert!(group.get("members").is_none(), "{group}");
    assert_eq!(group["displayName"], "Tour Guides");

    let values_only = server
        .get(&format!("{location}?attributes=members.value"), &token)
        .json_answer()
        .await;
    assert!(values_only.get("displayName").is_none(), "{values_only}");
    assert_eq!(values_only["id"], group["id"]);
    let mut values: Vec<Value> = values_only["members"].as_array().expect("members").clone();
    values.sort_by_key(|member| member["value"].as_str().map(str::to_owned));
    let mut expected = vec![json!({ "value": users[0] }), json!({ "value": users[1] })];
    expected.sort_by_key(|member| member["value"].as_str().map(str::to_owned));
    assert_eq!(values, expected);

    let patched = server
        .patch(&format!("{location}?excludedAttributes=members"), &token)
        .json(&patch_op(
            json!([{ "op": "add", "path": "members", "value": [{ "value": users[2] }] }]),
        ))
        .expect_status(StatusCode::OK)
        .await;
    let patched = json_body(patched).await;
    assert!(patched.get("members").is_none(), "{patched}");
    assert_eq!(patched["meta"]["version"], "W/\"2\"");
    let full = server.get(&location, &token).json_answer().await;
    assert_eq!(full["members"].as_array().map(Vec::len), Some(3));

    let listed = server
        .get(
            "/scim/v2/Groups?excludedAttributes=members,meta.location",
            &token,
        )
        .json_answer()
        .await;
    let listed_group = &listed["Resources"][0];
    assert!(listed_group.get("members").is_none(), "{listed}");
    assert!(listed_group["meta"].get("location").is_none(), "{listed}");
    assert_eq!(listed_group["meta"]["resourceType"], "Group");

    let user = server
        .get(
            &format!(
                "/scim/v2/Users/{}?attributes=name.givenName,USERNAME",
                users[0]
            ),
            &token,
        )
        .json_answer()
        .await;
    assert_eq!(user["userName"], "ada");
    assert!(
        user.get("displayName").is_none() && user.get("meta").is_none(),
        "{user}"
    );

    // A list that is no list of attribute paths is 400 invalidValue, before anything changes.
    let refused = server
        .post("/scim/v2/Groups?attributes=members%5Bvalue", &token)
        .json(&json!({ "displayName": "Never" }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(refused).await["scimType"], "invalidValue");
    let all = server.get("/scim/v2/Groups", &token).json_answer().await;
    assert_eq!(all["totalResults"], 1);
}

/// Entra ID's guide prefers PATCH → 204; an account setting switches from RFC 7644 §3.5.2's
/// default (200 with the resource) to that, for Users and Groups alike.
async fn patch_answers_204_when_the_account_asks_for_it(backend: Backend) {
    let (server, token, users) = provisioning_with_users(backend).await;
    let group = json!({ "displayName": "Tour Guides", "members": [{ "value": users[0] }] });
    let (_, location) = create_group(&server, &token, "/scim/v2/Groups", group).await;
    let add = |user: &str| {
        patch_op(json!([{ "op": "add", "path": "members", "value": [{ "value": user }] }]))
    };
    // The default answers the resource.
    server
        .patch(&location, &token)
        .json(&add(&users[1]))
        .expect_status(StatusCode::OK)
        .await;

    let acme = gatehouse::domain::AccountId::parse("acme").expect("slug");
    server
        .services
        .update_account(
            &acme,
            gatehouse::service::AccountChanges {
                scim_patch_response: Some(gatehouse::domain::ScimPatchResponse::NoContent),
                ..Default::default()
            },
        )
        .await
        .expect("setting");
    let silent = server
        .patch(&location, &token)
        .json(&add(&users[2]))
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    assert_eq!(silent.headers()["etag"], "W/\"3\"");
    assert_eq!(silent.text().await.expect("body"), "");
    let stored = server.get(&location, &token).json_answer().await;
    assert_eq!(stored["members"].as_array().map(Vec::len), Some(3));

    let user = server
        .patch(&format!("/scim/v2/Users/{}", users[0]), &token)
        .json(&patch_op(
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
        ))
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    assert_eq!(user.headers()["etag"], "W/\"2\"");
    // A refused PATCH still says why, in a SCIM error.
    server
        .patch(&location, &token)
        .json(&patch_op(json!([{ "op": "jump" }])))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
}

/// Membership is written in multi-row statements of 500: a PUT with more members than one
/// statement holds keeps them all, and a PATCH removing more than 500 removes exactly those.
async fn large_memberships_are_written_in_batches(backend: Backend) {
    let (server, token, _) = provisioning_with_users(backend).await;
    let mut ids = Vec::new();
    for index in 0..1_101 {
        let user = server
            .post("/scim/v2/Users", &token)
            .json(&json!({ "userName": format!("member{index}") }))
            .json_answer()
            .await;
        ids.push(user["id"].as_str().expect("id").to_owned());
    }
    let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    let (_, location) = create_group(
        &server,
        &token,
        "/scim/v2/Groups?excludedAttributes=members",
        json!({ "displayName": "Everyone" }),
    )
    .await;
    server
        .put(&format!("{location}?excludedAttributes=members"), &token)
        .json(&json!({ "displayName": "Everyone", "members": members }))
        .expect_status(StatusCode::OK)
        .await;
    let count = |group: Value| group["members"].as_array().map(Vec::len);
    let full = server.get(&location, &token).json_answer().await;
    assert_eq!(count(full), Some(1_101));

    let removed: Vec<Value> = ids[..601].iter().map(|id| json!({ "value": id })).collect();
    server
        .patch(&format!("{location}?excludedAttributes=members"), &token)
        .json(&patch_op(
            json!([{ "op": "Remove", "path": "members", "value": removed }]),
        ))
        .expect_status(StatusCode::OK)
        .await;
    let rest = server.get(&location, &token).json_answer().await;
    let left = member_ids(&rest);
    let mut expected = ids[601..].to_vec();
    expected.sort();
    assert_eq!(left, expected);
}

both_backends!(
    large_memberships_are_written_in_batches,
    patch_answers_204_when_the_account_asks_for_it,
    attributes_select_sub_attributes_and_excluded_members_are_left_out,
    root_search_spans_users_and_groups,
    create_group_with_members_and_group_type,
    bad_groups_are_refused_with_scim_errors,
    patch_changes_membership_row_by_row,
    put_replaces_members_and_delete_removes_the_group,
);
