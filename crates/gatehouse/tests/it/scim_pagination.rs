//! Cursor-based pagination (RFC 9865) beside startIndex, on both backends: pages follow
//! `nextCursor` to the end, stay exact while records come and go, and bad, foreign or old
//! cursors are refused with `invalidCursor` / `expiredCursor`.

use crate::common::{Backend, RequestExt, TestServer, json_body, provisioning};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn provisioning_with_users(
    backend: Backend,
    names: &[&str],
) -> (TestServer, String, Vec<String>) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let mut ids = Vec::new();
    for name in names {
        ids.push(create(&server, &token, name).await);
        server.clock.advance(chrono::Duration::milliseconds(1));
    }
    (server, token, ids)
}

async fn create(server: &TestServer, token: &str, name: &str) -> String {
    let user = server
        .post("/scim/v2/Users", token)
        .json(&json!({ "userName": name }))
        .json_answer()
        .await;
    user["id"].as_str().expect("id").to_owned()
}

fn names(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|user| user["userName"].as_str().expect("name").to_owned())
        .collect()
}

async fn get(server: &TestServer, token: &str, query: &str) -> reqwest::Response {
    server
        .get(&format!("/scim/v2/Users?{query}"), token)
        .send()
        .await
        .expect("request")
}

fn encoded(cursor: &str) -> String {
    cursor.replace('.', "%2E")
}

async fn cursor_pages_run_to_the_end_and_stay_exact_under_changes(backend: Backend) {
    let (server, token, ids) =
        provisioning_with_users(backend, &["ada", "bob", "cy", "dee", "eve"]).await;
    let first = json_body(get(&server, &token, "cursor=&count=2").await).await;
    assert_eq!(names(&first), ["ada", "bob"]);
    assert_eq!(first["totalResults"], 5);
    assert_eq!(first["itemsPerPage"], 2);
    assert!(first.get("startIndex").is_none(), "{first}");
    let next = first["nextCursor"].as_str().expect("nextCursor");

    // Deleting a record already seen and adding one shift nothing: the next page starts
    // after "bob", and the new record comes at the end.
    server
        .delete(&format!("/scim/v2/Users/{}", ids[0]), &token)
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    create(&server, &token, "fay").await;

    let second = json_body(
        get(
            &server,
            &token,
            &format!("cursor={}&count=2", encoded(next)),
        )
        .await,
    )
    .await;
    assert_eq!(names(&second), ["cy", "dee"]);
    let third = json_body(
        get(
            &server,
            &token,
            &format!(
                "cursor={}&count=2",
                encoded(second["nextCursor"].as_str().expect("next"))
            ),
        )
        .await,
    )
    .await;
    assert_eq!(names(&third), ["eve", "fay"]);
    assert!(third.get("nextCursor").is_none(), "the last page: {third}");

    // Under a sortBy the cursor walks the sorted order; .search takes a cursor too.
    let sorted = server
        .post("/scim/v2/Users/.search", &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "sortBy": "userName", "sortOrder": "descending", "cursor": "", "count": 3
        }))
        .json_answer()
        .await;
    assert_eq!(names(&sorted), ["fay", "eve", "dee"]);
    let rest = server
        .post("/scim/v2/Users/.search", &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "sortBy": "userName", "sortOrder": "descending", "count": 3,
            "cursor": sorted["nextCursor"]
        }))
        .json_answer()
        .await;
    assert_eq!(names(&rest), ["cy", "bob"]);
    assert!(rest.get("nextCursor").is_none());

    // Index pagination is unchanged: startIndex, no nextCursor.
    let indexed = json_body(get(&server, &token, "startIndex=2&count=2").await).await;
    assert_eq!(
        (names(&indexed), &indexed["startIndex"]),
        (vec!["cy".to_owned(), "dee".to_owned()], &json!(2))
    );
    assert!(indexed.get("nextCursor").is_none());
}

async fn bad_foreign_and_expired_cursors_are_refused(backend: Backend) {
    let (server, token, _) = provisioning_with_users(backend, &["ada", "bob", "cy"]).await;
    let first = json_body(get(&server, &token, "cursor=&count=1&filter=id%20pr").await).await;
    let next = first["nextCursor"].as_str().expect("next").to_owned();

    let scim_type = |value: &Value| value["scimType"].as_str().unwrap_or_default().to_owned();
    let other_filter = get(
        &server,
        &token,
        &format!("cursor={}&count=1", encoded(&next)),
    )
    .await;
    assert_eq!(other_filter.status(), StatusCode::BAD_REQUEST);
    assert_eq!(scim_type(&json_body(other_filter).await), "invalidCursor");
    let groups = server
        .get(
            &format!("/scim/v2/Groups?cursor={}&filter=id%20pr", encoded(&next)),
            &token,
        )
        .send()
        .await
        .expect("request");
    assert_eq!(scim_type(&json_body(groups).await), "invalidCursor");
    let garbage = get(&server, &token, "cursor=not-a-cursor").await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert_eq!(scim_type(&json_body(garbage).await), "invalidCursor");
    let both = get(&server, &token, "cursor=&startIndex=2").await;
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    assert_eq!(scim_type(&json_body(both).await), "invalidValue");
    server
        .post("/scim/v2/.search", &token)
        .json(&json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": "" }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;

    server.clock.advance(chrono::Duration::seconds(3601));
    let expired = get(
        &server,
        &token,
        &format!("cursor={}&count=1&filter=id%20pr", encoded(&next)),
    )
    .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(scim_type(&json_body(expired).await), "expiredCursor");
}

both_backends!(
    cursor_pages_run_to_the_end_and_stay_exact_under_changes,
    bad_foreign_and_expired_cursors_are_refused,
);
