//! The OpenAPI document and the router agree: every documented operation is served, and every
//! route `/v1` serves is documented (the router is built from the same `OpenApiRouter` list;
//! this checks it end to end).

use crate::common::{Backend, RequestExt, TestServer, TestServerOptions};
use reqwest::StatusCode;
use serde_json::Value;

/// Routes outside the REST API, deliberately undocumented there.
const OPERATIONAL_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/v1/openapi.json"];

#[tokio::test]
async fn every_documented_operation_is_served_and_documented_fully() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = acme_admin_token(&server).await;
    let document = served_document(&server).await;
    assert!(
        document["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    for name in ["Unauthorized", "Forbidden", "TooManyRequests"] {
        let response = &document["components"]["responses"][name];
        assert!(response["description"].is_string(), "{name}: {response}");
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }

    let paths = document["paths"].as_object().expect("paths");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|responses| !responses.is_empty()),
                    "{method} {path}"
                );
                // The common error answers, declared once and referenced; public operations
                // (the verification callback) have none of them.
                let public = operation["security"] == serde_json::json!([{}]);
                for status in ["401", "403", "429"] {
                    let response = &operation["responses"][status];
                    assert_eq!(response.is_null(), public, "{method} {path} {status}");
                    assert!(
                        public
                            || response["$ref"].is_string()
                            || response["description"].is_string(),
                        "{method} {path} {status}: {response}"
                    );
                }
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let expected = [
        ("GET", "/v1/me"),
        ("GET", "/v1/people"),
        ("POST", "/v1/people"),
        ("GET", "/v1/people/{id}"),
        ("PATCH", "/v1/people/{id}"),
        ("GET", "/v1/personal_access_tokens"),
        ("POST", "/v1/personal_access_tokens"),
        ("GET", "/v1/personal_access_tokens/{id}"),
        ("POST", "/v1/personal_access_tokens/{id}/revoke"),
    ];
    for (method, path) in expected {
        assert!(
            operations.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is documented"
        );
    }
    for (method, path) in &operations {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let response = server
            .client
            .request(method.parse().expect("method"), server.url(&concrete))
            .bearer_auth(&token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("request");
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let body = response.text().await.expect("text");
        assert!(!body.contains("No route for"), "{method} {path} is served");
    }
    for path in OPERATIONAL_ROUTES {
        let response = server
            .client
            .get(server.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(!paths.contains_key(*path), "{path} is operational, not API");
    }
    let response = server
        .get("/v1/nothing-here", &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert!(
        response
            .text()
            .await
            .expect("text")
            .contains("No route for /v1/nothing-here")
    );
}

/// What client generators refuse (openapi-spec-validator and `redocly lint` run on the live
/// document in CI; this keeps the rules they failed on close to the code): every response has a
/// description, every path parameter names a segment of its path, the list parameters are
/// optional query parameters, and `page`/`per_page` are integers.
#[tokio::test]
async fn the_document_is_what_client_generators_accept() {
    let server = TestServer::start(Backend::Sqlite).await;
    let document = served_document(&server).await;
    let methods = ["get", "put", "post", "delete", "patch"];
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in methods {
            let Some(operation) = item.get(method) else {
                continue;
            };
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            assert!(operation["summary"].is_string(), "{name}: no summary");
            if operation.get("requestBody").is_some() {
                assert_eq!(
                    operation["responses"]["415"]["$ref"],
                    "#/components/responses/UnsupportedMediaType",
                    "{name}: a JSON body's 415 is declared once and referenced"
                );
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                assert!(
                    response["description"].is_string() || response["$ref"].is_string(),
                    "{name} {status}: no description: {response}"
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let parameter_name = parameter["name"].as_str().expect("parameter name");
                match parameter["in"].as_str().expect("parameter in") {
                    "path" => assert!(
                        path.contains(&format!("{{{parameter_name}}}")),
                        "{name}: path parameter {parameter_name} is not in the path"
                    ),
                    "query" => assert_eq!(
                        parameter["required"], false,
                        "{name}: query parameter {parameter_name} must be optional"
                    ),
                    _ => {}
                }
                if ["page", "per_page"].contains(&parameter_name) {
                    assert_eq!(parameter["in"], "query", "{name}: {parameter_name}");
                    assert_eq!(
                        parameter["schema"]["type"], "integer",
                        "{name}: {parameter_name}"
                    );
                }
            }
        }
    }
    assert!(operations > 30, "only {operations} operations documented");
    let per_webhook = &document["paths"]["/v1/webhooks/{id}/deliveries"]["get"]["parameters"];
    let names: Vec<&str> = per_webhook
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    assert!(names.contains(&"per_page"), "{names:?}");
    assert!(
        !names.contains(&"webhook_id"),
        "the per-webhook list takes its webhook from the path: {names:?}"
    );
}

/// Generated clients name their functions after `operationId`: each operation has its own, and
/// renaming a handler doesn't rename a client's function (this table changes only on purpose).
#[tokio::test]
async fn every_operation_has_its_stable_operation_id() {
    let server = TestServer::start(Backend::Sqlite).await;
    let document = served_document(&server).await;
    let expected = [
        ("GET /v1/events/catalog", "get_event_catalog"),
        ("POST /v1/events", "publish_event"),
        ("GET /v1/me", "get_me"),
        ("GET /v1/people", "list_people"),
        ("POST /v1/people", "create_person"),
        ("GET /v1/people/{id}", "get_person"),
        ("PATCH /v1/people/{id}", "update_person"),
        (
            "GET /v1/personal_access_tokens",
            "list_personal_access_tokens",
        ),
        (
            "POST /v1/personal_access_tokens",
            "create_personal_access_token",
        ),
        (
            "GET /v1/personal_access_tokens/{id}",
            "get_personal_access_token",
        ),
        (
            "POST /v1/personal_access_tokens/{id}/revoke",
            "revoke_personal_access_token",
        ),
        (
            "PATCH /v1/personal_access_tokens/{id}",
            "update_personal_access_token",
        ),
        (
            "DELETE /v1/personal_access_tokens/{id}",
            "delete_personal_access_token",
        ),
        ("GET /v1/scim_token", "get_scim_token"),
        ("POST /v1/scim_token", "create_scim_token"),
        ("POST /v1/scim_token/rotate", "rotate_scim_token"),
        ("DELETE /v1/scim_token", "revoke_scim_token"),
        ("GET /v1/scim_groups", "list_scim_groups"),
        ("GET /v1/scim_groups/{id}", "get_scim_group"),
        (
            "GET /v1/scim_groups/{id}/members",
            "list_scim_group_members",
        ),
        ("GET /v1/scim_users", "list_scim_users"),
        ("GET /v1/scim_users/{id}", "get_scim_user"),
        ("GET /v1/webhook_deliveries", "list_webhook_deliveries"),
        ("GET /v1/webhook_deliveries/{id}", "get_webhook_delivery"),
        (
            "POST /v1/webhook_deliveries/{id}/redeliver",
            "redeliver_webhook_delivery",
        ),
        (
            "GET /v1/webhook_notifications",
            "list_webhook_notifications",
        ),
        ("GET /v1/webhook_policies", "list_webhook_policies"),
        ("POST /v1/webhook_policies", "create_webhook_policy"),
        (
            "GET /v1/webhook_policies/disabled",
            "list_disabled_webhook_policies",
        ),
        (
            "GET /v1/webhook_policies/enabled",
            "list_enabled_webhook_policies",
        ),
        ("GET /v1/webhook_policies/{id}", "get_webhook_policy"),
        ("PATCH /v1/webhook_policies/{id}", "update_webhook_policy"),
        ("DELETE /v1/webhook_policies/{id}", "delete_webhook_policy"),
        (
            "POST /v1/webhook_policies/{id}/rotate",
            "rotate_webhook_policy_key",
        ),
        ("GET /v1/webhook_verifications/{secret}", "verify_webhook"),
        (
            "POST /v1/webhook_verifications/{secret}",
            "verify_webhook_by_post",
        ),
        ("GET /v1/webhooks", "list_webhooks"),
        ("POST /v1/webhooks", "create_webhook"),
        ("GET /v1/webhooks/disabled", "list_disabled_webhooks"),
        ("GET /v1/webhooks/enabled", "list_enabled_webhooks"),
        ("GET /v1/webhooks/{id}", "get_webhook"),
        ("PATCH /v1/webhooks/{id}", "update_webhook"),
        ("DELETE /v1/webhooks/{id}", "delete_webhook"),
        (
            "GET /v1/webhooks/{id}/deliveries",
            "list_deliveries_of_webhook",
        ),
        (
            "POST /v1/webhooks/{id}/redeliver_failed",
            "redeliver_failed_deliveries_of_webhook",
        ),
        (
            "GET /v1/webhooks/{id}/signing_secret",
            "get_webhook_signing_secret",
        ),
        (
            "POST /v1/webhooks/{id}/signing_secret/rotate",
            "rotate_webhook_signing_secret",
        ),
        (
            "POST /v1/webhooks/{id}/verification",
            "resend_webhook_verification",
        ),
        ("POST /v1/webhooks/{id}/test", "send_webhook_test_message"),
        (
            "GET /accounts/{account}/webhook_policies/{name}/.well-known/openid-configuration",
            "get_policy_openid_configuration",
        ),
        (
            "GET /accounts/{account}/webhook_policies/{name}/jwks",
            "get_policy_jwks",
        ),
        ("GET /v1/account", "get_account"),
        ("PATCH /v1/account", "update_account"),
        ("GET /v1/status", "get_status"),
    ];
    let mut documented = std::collections::BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let operation_id = operation["operationId"].as_str().unwrap_or_default();
            documented.insert(
                format!("{} {path}", method.to_uppercase()),
                operation_id.to_owned(),
            );
        }
    }
    let expected: std::collections::BTreeMap<String, String> = expected
        .iter()
        .map(|(operation, id)| ((*operation).to_owned(), (*id).to_owned()))
        .collect();
    assert_eq!(documented, expected);
}

/// The headers the document declares are the headers the answers carry: every list sends
/// `Link` and `X-Pagination-*`, every authenticated answer `X-RateLimit-*`, and a request may
/// name its account with `X-Gatehouse-Account`.
#[tokio::test]
async fn answers_carry_the_headers_the_document_declares() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        TestServerOptions {
            rate_limit_per_minute: 1_000,
            ..TestServerOptions::default()
        },
    )
    .await;
    let token = acme_admin_token(&server).await;
    // Every GET below is asked for real: the account's credential must exist to be read.
    server
        .post("/v1/scim_token", &token)
        .expect_status(StatusCode::CREATED)
        .await;
    let document = served_document(&server).await;
    let mut lists = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let public = operation["security"] == serde_json::json!([{}]);
            let account_header = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|parameter| parameter["name"] == "X-Gatehouse-Account");
            match account_header {
                Some(parameter) => {
                    assert!(!public, "{name}: public, yet takes an account");
                    assert_eq!(parameter["in"], "header", "{name}");
                    assert_eq!(parameter["required"], false, "{name}");
                }
                None => assert!(public, "{name}: X-Gatehouse-Account is not declared"),
            }
            let ok = &operation["responses"]["200"];
            let Some(headers) = ok["headers"].as_object() else {
                continue;
            };
            // Lists with a path parameter need a real record; those without are asked for real.
            if method != "get" || path.contains('{') {
                continue;
            }
            let response = server
                .client
                .get(server.url(path))
                .bearer_auth(&token)
                .header("X-Gatehouse-Account", "acme")
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            for header in headers.keys() {
                assert!(
                    response.headers().contains_key(header.as_str()),
                    "{name}: declares {header}, which the answer lacks"
                );
            }
            if headers.contains_key("Link") {
                lists += 1;
                for header in ["X-Pagination-Total-Entries", "X-RateLimit-Remaining"] {
                    assert!(headers.contains_key(header), "{name}: {header} undeclared");
                }
            }
        }
    }
    assert!(
        lists >= 8,
        "only {lists} lists declare their pagination headers"
    );
}

/// A free-form JSON object (an event's payload, a delivered message, headers, a JWK, a SCIM
/// representation) says what its members may be: a bare `{"type": "object"}` with neither
/// `properties` nor `additionalProperties` reads as "an object with no members" to TypeScript
/// generators (`Record<string, never>`), which then refuse every payload a client builds.
#[tokio::test]
async fn free_form_objects_say_what_they_hold() {
    fn walk(schema: &Value, at: &str, bare: &mut Vec<String>) {
        match schema {
            Value::Object(object) => {
                let is_object = match &object.get("type") {
                    Some(Value::String(kind)) => kind == "object",
                    Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "object"),
                    _ => false,
                };
                if is_object
                    && !object.contains_key("properties")
                    && !object.contains_key("additionalProperties")
                {
                    bare.push(at.to_owned());
                }
                for (key, value) in object {
                    walk(value, &format!("{at}/{key}"), bare);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{index}"), bare);
                }
            }
            _ => {}
        }
    }
    let server = TestServer::start(Backend::Sqlite).await;
    let document = served_document(&server).await;
    let mut bare = Vec::new();
    walk(&document, "#", &mut bare);
    assert!(
        bare.is_empty(),
        "objects that declare no members: {bare:#?}"
    );
}

/// The document as `GET /v1/openapi.json` serves it.
pub async fn served_document(server: &TestServer) -> Value {
    server
        .client
        .get(server.url("/v1/openapi.json"))
        .json_answer()
        .await
}

/// The account `acme` on `server`, and a token with every scope of its administrator.
pub async fn acme_admin_token(server: &TestServer) -> String {
    let acme = server.account("acme").await;
    let admin = server
        .person(&acme, "admin@example.org", &["account_administrator"])
        .await;
    server.token_with_every_scope(&acme, &admin).await
}
