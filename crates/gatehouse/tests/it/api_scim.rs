//! REST read access to SCIM records (`/v1/scim_users`, `/v1/scim_groups`, members), on both
//! backends: what the provisioning client wrote, paginated, searchable, never writable here.

use crate::common::{Backend, RequestExt, TestServer, header, json_body, texts};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server where `admin@example.org` provisioned the users ada, bob (inactive) and cy and the
/// group "Tour Guides" (ada and cy): the server, that administrator's `scim:read` token, the
/// users' ids and the group's id.
async fn provisioned(backend: Backend) -> (TestServer, String, Vec<String>, String) {
    let server = TestServer::start(backend).await;
    let (acme, admin, writer) = server
        .acme_member(
            "admin@example.org",
            &["directory_administrator"],
            &["scim:write"],
        )
        .await;
    let reader = server.token(&acme, &admin, &["scim:read"]).await;
    let mut users = Vec::new();
    for (name, active) in [("ada", true), ("bob", false), ("cy", true)] {
        let user = server
            .post("/scim/v2/Users", &writer)
            .json(&json!({
                "userName": name,
                "active": active,
                "name": { "givenName": name.to_uppercase(), "familyName": "Lovelace" },
                "emails": [{ "value": format!("{name}@example.org"), "primary": true }]
            }))
            .json_answer()
            .await;
        users.push(user["id"].as_str().expect("id").to_owned());
    }
    let group = server
        .post("/scim/v2/Groups", &writer)
        .json(&json!({
            "displayName": "Tour Guides",
            "externalId": "g-1",
            "members": [{ "value": users[0] }, { "value": users[2] }]
        }))
        .json_answer()
        .await;
    let group = group["id"].as_str().expect("id").to_owned();
    (server, reader, users, group)
}

fn total(response: &reqwest::Response) -> u64 {
    header(response, "x-pagination-total-entries")
        .parse()
        .expect("number")
}

async fn scim_users_are_listed_searched_and_read(backend: Backend) {
    let (server, reader, users, _) = provisioned(backend).await;
    let response = server
        .get("/v1/scim_users?per_page=2", &reader)
        .expect_status(StatusCode::OK)
        .await;
    assert_eq!(total(&response), 3);
    assert!(header(&response, "link").contains("rel=\"next\""));
    let page = json_body(response).await;
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    assert_eq!(page[0]["user_name"], "ada");
    assert_eq!(page[0]["given_name"], "ADA");
    assert_eq!(page[0]["scim"]["emails"][0]["value"], "ada@example.org");
    assert!(page[0]["person_id"].is_string());

    let names = |value: &Value| texts(value, "/user_name");
    let sorted = server
        .get("/v1/scim_users?sort=-user_name&fields=user_name", &reader)
        .json_answer()
        .await;
    assert_eq!(names(&sorted), ["cy", "bob", "ada"]);
    assert_eq!(sorted[0], json!({ "id": users[2], "user_name": "cy" }));
    let searched = server
        .get("/v1/scim_users?q=BOB%40example", &reader)
        .json_answer()
        .await;
    assert_eq!(names(&searched), ["bob"], "q looks in emails too");
    let filtered = server
        .get(
            "/v1/scim_users?filter=active%20eq%20true&q=lovelace",
            &reader,
        )
        .json_answer()
        .await;
    assert_eq!(names(&filtered), ["ada", "cy"]);

    let one = server
        .get(&format!("/v1/scim_users/{}", users[1]), &reader)
        .json_answer()
        .await;
    assert_eq!(
        (one["user_name"].as_str(), one["active"].as_bool()),
        (Some("bob"), Some(false))
    );
    assert!(one["scim"].get("password").is_none());

    for (query, message) in [
        ("filter=userName%20zz%20%22a%22", "zz"),
        ("sort=user_name,created_at", "one field"),
        ("sort=password", "password"),
    ] {
        let refused = server
            .get(&format!("/v1/scim_users?{query}"), &reader)
            .expect_status(StatusCode::BAD_REQUEST)
            .await;
        let body = json_body(refused).await;
        assert!(
            body["message"].as_str().expect("message").contains(message),
            "{query}: {body}"
        );
    }
    server
        .get(
            "/v1/scim_users/0190c0de-0000-7000-8000-000000000000",
            &reader,
        )
        .expect_status(StatusCode::NOT_FOUND)
        .await;
}

async fn scim_groups_show_member_counts_and_member_pages(backend: Backend) {
    let (server, reader, users, group) = provisioned(backend).await;
    let groups = server
        .get("/v1/scim_groups?q=guides", &reader)
        .json_answer()
        .await;
    assert_eq!(groups[0]["display_name"], "Tour Guides");
    assert_eq!(groups[0]["group_type"], "team");
    assert_eq!(groups[0]["member_count"], 2);
    let one = server
        .get(&format!("/v1/scim_groups/{group}"), &reader)
        .json_answer()
        .await;
    assert_eq!(
        (one["external_id"].as_str(), one["member_count"].as_u64()),
        (Some("g-1"), Some(2))
    );

    let first_page = server
        .get(
            &format!("/v1/scim_groups/{group}/members?per_page=1"),
            &reader,
        )
        .send()
        .await
        .expect("request");
    assert_eq!(total(&first_page), 2);
    let first_page = json_body(first_page).await;
    let second_page = server
        .get(
            &format!("/v1/scim_groups/{group}/members?per_page=1&page=2"),
            &reader,
        )
        .json_answer()
        .await;
    let mut seen = vec![
        first_page[0]["id"].as_str().expect("id").to_owned(),
        second_page[0]["id"].as_str().expect("id").to_owned(),
    ];
    seen.sort();
    let mut expected = vec![users[0].clone(), users[2].clone()];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(first_page[0]["type"], "User");
    assert!(first_page[0]["display"].is_string());
}

/// Only administrators with `scim:read` see SCIM records, only their own account's, and
/// nothing is writable over REST.
async fn scim_records_need_an_administrator_with_scim_read(backend: Backend) {
    let (server, reader, users, group) = provisioned(backend).await;
    let acme = server.find_account("acme").await;
    // Roles are checked on every request: an administrator's token stops working for SCIM
    // records the moment they become a specialist.
    let demoted = server
        .person(&acme, "former@example.org", &["account_administrator"])
        .await;
    let specialist_token = server.token(&acme, &demoted, &["scim:read"]).await;
    server
        .services
        .update_person(
            None,
            &acme.id,
            demoted.id,
            gatehouse::service::PersonChanges {
                roles: Some(gatehouse::auth::RoleSet::parse(["specialist"]).expect("roles")),
                ..Default::default()
            },
        )
        .await
        .expect("demote");
    let people_token = server
        .token_of(&acme, "admin@example.org", &["people:read"])
        .await;
    for token in [&specialist_token, &people_token] {
        let response = server
            .get("/v1/scim_users", token)
            .expect_status(StatusCode::FORBIDDEN)
            .await;
        assert!(header(&response, "www-authenticate").contains("insufficient_scope"));
    }

    let intruder_token = server.globex_admin_token(&["scim:read"]).await;
    for path in [
        format!("/v1/scim_users/{}", users[0]),
        format!("/v1/scim_groups/{group}"),
        format!("/v1/scim_groups/{group}/members"),
    ] {
        server
            .get(&path, &intruder_token)
            .expect_status(StatusCode::NOT_FOUND)
            .await;
    }
    let listed = server
        .get("/v1/scim_users", &intruder_token)
        .send()
        .await
        .expect("request");
    assert_eq!(total(&listed), 0);

    for request in [
        server
            .post("/v1/scim_users", &reader)
            .json(&json!({ "user_name": "x" })),
        server
            .patch(&format!("/v1/scim_groups/{group}"), &reader)
            .json(&json!({})),
    ] {
        request.expect_status(StatusCode::METHOD_NOT_ALLOWED).await;
    }
}

both_backends!(
    scim_users_are_listed_searched_and_read,
    scim_groups_show_member_counts_and_member_pages,
    scim_records_need_an_administrator_with_scim_read,
);
