//! The OpenAPI document and the router agree: every documented operation is served, and every
//! route `/v1` serves is documented (the router is built from the same `OpenApiRouter` list;
//! this checks it end to end).

use crate::common::{Backend, RequestExt, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

/// Routes outside the REST API, deliberately undocumented there.
const OPERATIONAL_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/v1/openapi.json"];

#[tokio::test]
async fn every_documented_operation_is_served_and_documented_fully() {
    let server = TestServer::start(Backend::Sqlite).await;
    let acme = server.account("acme").await;
    let admin = server
        .person(&acme, "admin@example.org", &["account_administrator"])
        .await;
    let token = server.token_with_every_scope(&acme, &admin).await;
    let document: Value = server
        .client
        .get(server.url("/v1/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
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
    let document: Value = server
        .client
        .get(server.url("/v1/openapi.json"))
        .json_answer()
        .await;
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
}
