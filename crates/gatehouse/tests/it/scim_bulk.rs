//! `/Bulk` (RFC 7644 §3.7) end to end on both backends: bulkId references in any order,
//! per-operation results and errors, failOnErrors, versions, and the advertised limits.

use crate::common::{Backend, RequestExt, TestServer, json_body, provisioning, texts};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A POST of `request` to `/Bulk` with `token`, to send.
fn bulk(server: &TestServer, token: &str, request: &Value) -> reqwest::RequestBuilder {
    server.post("/scim/v2/Bulk", token).json(request)
}

/// POSTs a BulkRequest of `operations` (with `failOnErrors` when given), expecting 200; returns
/// the BulkResponse.
async fn bulk_answer(
    server: &TestServer,
    token: &str,
    fail_on_errors: Option<u32>,
    operations: Value,
) -> Value {
    let mut request = json!({ "schemas": [BULK_REQUEST], "Operations": operations });
    if let Some(errors) = fail_on_errors {
        request["failOnErrors"] = json!(errors);
    }
    let response = bulk(server, token, &request)
        .expect_status(StatusCode::OK)
        .await;
    json_body(response).await
}

/// §3.7.2: a group may name users created later in the same request; the server runs the
/// producers first and answers in request order.
async fn bulk_ids_resolve_across_operations_in_any_order(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let response = bulk(
        &server,
        &token,
        &json!({
            "schemas": [BULK_REQUEST],
            "Operations": [
                {
                    "method": "POST", "path": "/Groups", "bulkId": "guides",
                    "data": {
                        "displayName": "Tour Guides",
                        "members": [{ "value": "bulkId:alice" }, { "value": "bulkId:bob" }]
                    }
                },
                { "method": "POST", "path": "/Users", "bulkId": "alice", "data": { "userName": "alice" } },
                { "method": "POST", "path": "/Users", "bulkId": "bob", "data": { "userName": "bob" } },
                {
                    "method": "PATCH", "path": "/Users/bulkId:alice",
                    "data": {
                        "schemas": [PATCH_OP],
                        "Operations": [{ "op": "replace", "path": "active", "value": false }]
                    }
                },
                { "method": "DELETE", "path": "/Users/0190c0de-0000-7000-8000-000000000000" },
                { "method": "GET", "path": "/Users" }
            ]
        }),
    )
    .expect_status(StatusCode::OK)
    .await;
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let answer = json_body(response).await;
    assert_eq!(answer["schemas"], json!([BULK_RESPONSE]));
    assert_eq!(
        texts(&answer["Operations"], "/status"),
        ["201", "201", "201", "200", "404", "400"]
    );
    let operations = answer["Operations"].as_array().expect("operations");
    assert_eq!(operations[0]["bulkId"], "guides");
    assert_eq!(operations[0]["version"], "W/\"1\"");
    let alice_location = operations[1]["location"].as_str().expect("location");
    assert!(alice_location.starts_with(&format!("{}/scim/v2/Users/", server.base_url)));
    assert_eq!(
        operations[3]["location"], alice_location,
        "bulkId path resolved"
    );
    assert_eq!(operations[3]["version"], "W/\"2\"");
    assert_eq!(operations[4]["response"]["status"], "404");
    assert_eq!(operations[5]["response"]["scimType"], "invalidSyntax");
    assert_eq!(operations[5]["method"], "GET");

    // The locations answered are where the records are.
    let read = |location: &Value| {
        let location = location.as_str().expect("location");
        server
            .client
            .get(location)
            .bearer_auth(&token)
            .json_answer()
    };
    let group = read(&operations[0]["location"]).await;
    let mut members = texts(&group["members"], "/display");
    members.sort_unstable();
    assert_eq!(members, ["alice", "bob"]);
    assert_eq!(read(&operations[1]["location"]).await["active"], false);

    // Each operation wrote its own events.
    let names = server.event_names("acme", "scim_").await;
    assert_eq!(
        names,
        [
            "scim_user.create",
            "scim_user.create",
            "scim_group.create",
            "scim_user.update"
        ]
    );
}

/// §3.7.3: failOnErrors stops after that many errors; what was not run is not answered and
/// not done. References to unknown, failed or circular bulkIds are 409 invalidValue.
async fn fail_on_errors_stops_and_bad_references_are_409(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let answer = bulk_answer(
        &server,
        &token,
        Some(1),
        json!([
            { "method": "POST", "path": "/Users", "bulkId": "x", "data": { "displayName": "no userName" } },
            { "method": "POST", "path": "/Users", "bulkId": "y", "data": { "userName": "never" } }
        ]),
    )
    .await;
    assert_eq!(answer["Operations"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["Operations"][0]["status"], "400");
    let listed = server
        .get("/scim/v2/Users?filter=userName%20eq%20%22never%22", &token)
        .json_answer()
        .await;
    assert_eq!(listed["totalResults"], 0, "not run after failOnErrors");

    let answer = bulk_answer(
        &server,
        &token,
        None,
        json!([
            { "method": "POST", "path": "/Users", "bulkId": "a", "data": { "userName": "a", "x": "bulkId:b" } },
            { "method": "POST", "path": "/Users", "bulkId": "b", "data": { "userName": "b", "x": "bulkId:a" } },
            { "method": "POST", "path": "/Groups", "bulkId": "g", "data": { "displayName": "G", "members": [{ "value": "bulkId:nobody" }] } },
            { "method": "POST", "path": "/Users", "bulkId": "dup", "data": {} },
            { "method": "POST", "path": "/Groups", "bulkId": "h", "data": { "displayName": "H", "members": [{ "value": "bulkId:dup" }] } }
        ]),
    )
    .await;
    let operations = answer["Operations"].as_array().expect("operations");
    let outcome: Vec<(&str, &str)> = operations
        .iter()
        .map(|operation| {
            (
                operation["status"].as_str().expect("status"),
                operation["response"]["scimType"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            ("409", "invalidValue"),
            ("409", "invalidValue"),
            ("409", "invalidValue"),
            ("400", "invalidValue"),
            ("409", "invalidValue")
        ],
        "{answer}"
    );
    assert!(
        operations[4]["response"]["detail"]
            .as_str()
            .expect("detail")
            .contains("failed")
    );
}

/// Versions guard bulk writes like If-Match (§3.14): a stale one is 412 for that operation.
async fn operation_versions_are_checked(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let user = server
        .post("/scim/v2/Users", &token)
        .json(&json!({ "userName": "ada" }))
        .json_answer()
        .await;
    let path = format!("/Users/{}", user["id"].as_str().expect("id"));
    let answer = bulk_answer(
        &server,
        &token,
        None,
        json!([
            { "method": "PUT", "path": path, "version": "W/\"7\"", "data": { "userName": "ada2" } },
            { "method": "PUT", "path": path, "version": "W/\"1\"", "data": { "userName": "ada3" } },
            { "method": "DELETE", "path": path, "version": "W/\"2\"" }
        ]),
    )
    .await;
    assert_eq!(
        texts(&answer["Operations"], "/status"),
        ["412", "200", "204"]
    );
}

/// §3.7.4: requests over maxOperations or maxPayloadSize are 413, naming the limit, and run
/// nothing; a malformed request is 400; bulk writes need scim:write.
async fn limits_and_malformed_requests_are_refused_whole(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let operation =
        json!({ "method": "POST", "path": "/Users", "bulkId": "x", "data": { "userName": "u" } });
    let too_many = json!({ "schemas": [BULK_REQUEST], "Operations": vec![operation; 1001] });
    let response = bulk(&server, &token, &too_many)
        .expect_status(StatusCode::PAYLOAD_TOO_LARGE)
        .await;
    let error = json_body(response).await;
    assert_eq!(error["status"], "413");
    assert!(
        error["detail"]
            .as_str()
            .expect("detail")
            .contains("maxOperations is 1000"),
        "{error}"
    );
    // Oversized bodies go on connections of their own: the server may answer 413 and close
    // the connection before the client has sent everything (a body beyond the HTTP layer's
    // own limit is never read whole), and a pooled connection would carry that into the next
    // request. Then the client may see the close instead of the answer; either way nothing runs.
    for size in [1_100_000, 3_000_000] {
        let padding = "x".repeat(size);
        let sent = reqwest::Client::new()
            .post(server.url("/scim/v2/Bulk"))
            .bearer_auth(&token)
            .json(&json!({ "schemas": [BULK_REQUEST], "Operations": [], "padding": padding }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if size > 2_000_000 && error.is_request() => continue,
            Err(error) => panic!("{size}: {error}"),
        };
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size}");
        assert!(
            json_body(response).await["detail"]
                .as_str()
                .expect("detail")
                .contains("maxPayloadSize"),
        );
    }
    let malformed = server
        .post("/scim/v2/Bulk", &token)
        .header("content-type", "application/scim+json")
        .body("{\"Operations\": [")
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(json_body(malformed).await["scimType"], "invalidSyntax");
    let users = server.get("/scim/v2/Users", &token).json_answer().await;
    assert_eq!(users["totalResults"], 0, "nothing ran");

    let acme = server.find_account("acme").await;
    let reader = server
        .token_of(&acme, "admin@example.org", &["scim:read"])
        .await;
    bulk(
        &server,
        &reader,
        &json!({ "schemas": [BULK_REQUEST], "Operations": [] }),
    )
    .expect_status(StatusCode::FORBIDDEN)
    .await;
}

both_backends!(
    bulk_ids_resolve_across_operations_in_any_order,
    fail_on_errors_stops_and_bad_references_are_409,
    operation_versions_are_checked,
    limits_and_malformed_requests_are_refused_whole,
);
