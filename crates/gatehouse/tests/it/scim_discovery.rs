//! SCIM discovery (RFC 7644 §4), authentication and error messages (§3.12), on both backends.

use crate::common::{Backend, RequestExt, header, provisioning};
use reqwest::StatusCode;
use serde_json::Value;

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn scim_json(response: reqwest::Response) -> Value {
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().expect("ascii")),
        Some("application/scim+json"),
        "SCIM media type"
    );
    response.json().await.expect("JSON")
}

async fn service_provider_config_says_what_is_served(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let response = server
        .get("/scim/v2/ServiceProviderConfig", &token)
        .expect_status(StatusCode::OK)
        .await;
    let config = scim_json(response).await;
    assert_eq!(
        config["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(
        (
            &config["bulk"]["supported"],
            &config["bulk"]["maxOperations"],
            &config["bulk"]["maxPayloadSize"]
        ),
        (
            &Value::from(true),
            &Value::from(1000),
            &Value::from(1_048_576)
        )
    );
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["pagination"]["cursor"], true);
    assert_eq!(config["pagination"]["index"], true);
    assert_eq!(config["pagination"]["cursorTimeout"], 3600);
    assert_eq!(
        config["meta"]["location"],
        format!("{}/scim/v2/ServiceProviderConfig", server.base_url)
    );

    // The account may be named in the path.
    let response = server
        .get("/accounts/acme/scim/v2/ServiceProviderConfig", &token)
        .expect_status(StatusCode::OK)
        .await;
    let config = scim_json(response).await;
    assert_eq!(
        config["meta"]["location"],
        format!(
            "{}/accounts/acme/scim/v2/ServiceProviderConfig",
            server.base_url
        )
    );
}

async fn resource_types_and_schemas_are_listed_and_found(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let types = scim_json(
        server
            .get("/scim/v2/ResourceTypes", &token)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(types["schemas"][0], LIST_RESPONSE);
    assert_eq!(types["totalResults"], 2);
    let names: Vec<&str> = types["Resources"]
        .as_array()
        .expect("array")
        .iter()
        .map(|item| item["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["User", "Group"]);
    let user = scim_json(
        server
            .get("/scim/v2/ResourceTypes/User", &token)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(
        user["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );

    let schemas = scim_json(
        server
            .get("/scim/v2/Schemas", &token)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(schemas["totalResults"], 4);
    let core = scim_json(
        server
            .get(
                "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
                &token,
            )
            .send()
            .await
            .expect("request"),
    )
    .await;
    let user_name = core["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|attribute| attribute["name"] == "userName")
        .expect("userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = core["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|attribute| attribute["name"] == "password")
        .expect("password");
    assert_eq!(
        (
            password["mutability"].as_str(),
            password["returned"].as_str()
        ),
        (Some("writeOnly"), Some("never"))
    );
    let group_extension = scim_json(
        server
            .get(
                "/scim/v2/Schemas/urn:gatehouse:params:scim:schemas:extension:2.0:Group",
                &token,
            )
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(group_extension["attributes"][0]["name"], "groupType");

    let response = server
        .get("/scim/v2/Schemas/urn:nope", &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    let error = scim_json(response).await;
    assert_eq!(
        (error["schemas"][0].as_str(), error["status"].as_str()),
        (Some(ERROR), Some("404"))
    );
    let response = server
        .get("/scim/v2/Nothing", &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(scim_json(response).await["status"], "404");
}

async fn scim_refuses_missing_wrong_and_underprivileged_tokens_in_scim_format(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let acme = server.find_account("acme").await;
    let globex = server.account("globex").await;
    let _ = globex;

    let response = server
        .client
        .get(server.url("/scim/v2/Schemas"))
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="gatehouse""#
    );
    let error = scim_json(response).await;
    assert_eq!(
        (error["schemas"][0].as_str(), error["status"].as_str()),
        (Some(ERROR), Some("401"))
    );

    // Another account's path.
    let response = server
        .get("/accounts/globex/scim/v2/Schemas", &token)
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    assert!(header(&response, "www-authenticate").contains("invalid_token"));
    assert_eq!(scim_json(response).await["status"], "401");

    let reader = server
        .person(&acme, "reader@example.org", &["specialist"])
        .await;
    let people_only = server.token(&acme, &reader, &["people:read"]).await;
    let response = server
        .get("/scim/v2/Schemas", &people_only)
        .expect_status(StatusCode::FORBIDDEN)
        .await;
    assert!(header(&response, "www-authenticate").contains(r#"scope="scim:read""#));
    assert_eq!(scim_json(response).await["status"], "403");
}

/// Endpoint names are matched ignoring case and a trailing slash (Microsoft's reference tests
/// send `/users` and `/Users/?filter=…`), at both base URLs, still behind authentication; what
/// names no endpoint stays a SCIM 404.
async fn endpoint_names_ignore_case_and_a_trailing_slash(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    server
        .post("/scim/v2/users/", &token)
        .json(&serde_json::json!({ "userName": "ada" }))
        .expect_status(StatusCode::CREATED)
        .await;
    for path in [
        "/scim/v2/USERS?filter=userName%20eq%20%22ada%22",
        "/scim/v2/Users/?filter=userName%20eq%20%22ada%22",
        "/accounts/acme/scim/v2/users/?filter=userName%20eq%20%22ada%22",
    ] {
        let response = server.get(path, &token).expect_status(StatusCode::OK).await;
        assert_eq!(scim_json(response).await["totalResults"], 1, "{path}");
    }
    server
        .get("/scim/v2/serviceproviderconfig", &token)
        .expect_status(StatusCode::OK)
        .await;
    server
        .client
        .get(server.url("/scim/v2/users/"))
        .expect_status(StatusCode::UNAUTHORIZED)
        .await;
    let unknown = server
        .get("/scim/v2/serviceConfiguration", &token)
        .expect_status(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(scim_json(unknown).await["status"], "404");
}

/// RFC 7644 §3.12 `sensitive`: a password in a filter in the URI is refused with 403 (it would
/// sit in access logs); in a `.search` body it is an ordinary unknown attribute.
async fn a_password_filter_in_the_uri_is_sensitive(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    for path in [
        "/scim/v2/Users?filter=password%20eq%20%22t1meMa%24heen%22",
        "/scim/v2/Groups?filter=urn:ietf:params:scim:schemas:core:2.0:User:password%20pr",
    ] {
        let response = server
            .get(path, &token)
            .expect_status(StatusCode::FORBIDDEN)
            .await;
        let error = scim_json(response).await;
        assert_eq!(error["scimType"], "sensitive", "{path}");
        assert!(!error["detail"].as_str().expect("detail").contains("t1meMa"));
    }
    let searched = server
        .post("/scim/v2/Users/.search", &token)
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "password eq \"x\""
        }))
        .expect_status(StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(scim_json(searched).await["scimType"], "invalidFilter");
}

both_backends!(
    a_password_filter_in_the_uri_is_sensitive,
    endpoint_names_ignore_case_and_a_trailing_slash,
    service_provider_config_says_what_is_served,
    resource_types_and_schemas_are_listed_and_found,
    scim_refuses_missing_wrong_and_underprivileged_tokens_in_scim_format,
);
