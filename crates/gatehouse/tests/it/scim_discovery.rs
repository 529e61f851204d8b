//! SCIM discovery (RFC 7644 §4), authentication and error messages (§3.12), on both backends.

use crate::common::{Backend, RequestExt, header, provisioning, texts};
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

/// Sends `request` expecting `status`; returns its SCIM JSON body.
async fn scim_answer(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    scim_json(request.expect_status(status).await).await
}

/// The attribute `name` of a schema.
fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    let attributes = schema["attributes"].as_array().expect("attributes");
    let attribute = attributes
        .iter()
        .find(|attribute| attribute["name"] == name);
    attribute.unwrap_or_else(|| panic!("no attribute {name}"))
}

async fn service_provider_config_says_what_is_served(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    let config = scim_answer(
        server.get("/scim/v2/ServiceProviderConfig", &token),
        StatusCode::OK,
    )
    .await;
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
    let config = scim_answer(
        server.get("/accounts/acme/scim/v2/ServiceProviderConfig", &token),
        StatusCode::OK,
    )
    .await;
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
    let types = scim_answer(server.get("/scim/v2/ResourceTypes", &token), StatusCode::OK).await;
    assert_eq!(types["schemas"][0], LIST_RESPONSE);
    assert_eq!(types["totalResults"], 2);
    assert_eq!(texts(&types["Resources"], "/name"), ["User", "Group"]);
    let user = scim_answer(
        server.get("/scim/v2/ResourceTypes/User", &token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(
        user["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );

    let schemas = scim_answer(server.get("/scim/v2/Schemas", &token), StatusCode::OK).await;
    assert_eq!(schemas["totalResults"], 5);
    let core = scim_answer(
        server.get(
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            &token,
        ),
        StatusCode::OK,
    )
    .await;
    let user_name = attribute(&core, "userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = attribute(&core, "password");
    assert_eq!(
        (
            password["mutability"].as_str(),
            password["returned"].as_str()
        ),
        (Some("writeOnly"), Some("never"))
    );
    let group_extension = scim_answer(
        server.get(
            "/scim/v2/Schemas/urn:gatehouse:params:scim:schemas:extension:2.0:Group",
            &token,
        ),
        StatusCode::OK,
    )
    .await;
    assert_eq!(group_extension["attributes"][0]["name"], "groupType");

    let error = scim_answer(
        server.get("/scim/v2/Schemas/urn:nope", &token),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        (error["schemas"][0].as_str(), error["status"].as_str()),
        (Some(ERROR), Some("404"))
    );
    let nothing = scim_answer(
        server.get("/scim/v2/Nothing", &token),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(nothing["status"], "404");
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
    let unknown = server.get("/scim/v2/serviceConfiguration", &token);
    let unknown = scim_answer(unknown, StatusCode::NOT_FOUND).await;
    assert_eq!(unknown["status"], "404");
}

/// RFC 7644 §3.12 `sensitive`: a password in a filter in the URI is refused with 403 (it would
/// sit in access logs); in a `.search` body it is an ordinary unknown attribute.
async fn a_password_filter_in_the_uri_is_sensitive(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:write"]).await;
    for path in [
        "/scim/v2/Users?filter=password%20eq%20%22t1meMa%24heen%22",
        "/scim/v2/Groups?filter=urn:ietf:params:scim:schemas:core:2.0:User:password%20pr",
    ] {
        let error = scim_answer(server.get(path, &token), StatusCode::FORBIDDEN).await;
        assert_eq!(error["scimType"], "sensitive", "{path}");
        assert!(!error["detail"].as_str().expect("detail").contains("t1meMa"));
    }
    let search = server
        .post("/scim/v2/Users/.search", &token)
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "password eq \"x\""
        }));
    let refused = scim_answer(search, StatusCode::BAD_REQUEST).await;
    assert_eq!(refused["scimType"], "invalidFilter");
}

/// RFC 7644 §4: on the discovery endpoints a filter is refused with 403 (a client must not
/// take the whole list for what its filter matched), other query parameters (sorting,
/// pagination) are ignored, lists are ListResponses, one definition by id is a single object,
/// and an unknown id is a SCIM 404.
async fn discovery_refuses_filters_and_ignores_other_parameters(backend: Backend) {
    let (server, token) = provisioning(backend, "directory_administrator", &["scim:read"]).await;
    for base in ["/scim/v2", "/accounts/acme/scim/v2"] {
        for endpoint in [
            "ServiceProviderConfig",
            "Schemas",
            "ResourceTypes",
            "Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            "ResourceTypes/User",
        ] {
            for query in [
                "filter=id%20eq%20%22User%22",
                "Filter=name%20pr&count=1",
                "filter=",
            ] {
                let path = format!("{base}/{endpoint}?{query}");
                let error = scim_answer(server.get(&path, &token), StatusCode::FORBIDDEN).await;
                assert_eq!(
                    (
                        error["schemas"][0].as_str(),
                        error["status"].as_str(),
                        error["scimType"].as_str()
                    ),
                    (Some(ERROR), Some("403"), Some("invalidFilter")),
                    "{path}"
                );
                assert!(
                    error["detail"]
                        .as_str()
                        .is_some_and(|detail| detail.contains("RFC 7644 §4")),
                    "{error}"
                );
            }
        }
    }
    // Sorting and pagination are ignored: the whole list, in its own order.
    for (endpoint, total) in [("Schemas", 5), ("ResourceTypes", 2)] {
        let plain = scim_answer(
            server.get(&format!("/scim/v2/{endpoint}"), &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(plain["schemas"][0], LIST_RESPONSE);
        assert_eq!(
            (&plain["totalResults"], &plain["startIndex"]),
            (&Value::from(total), &Value::from(1))
        );
        assert_eq!(
            plain["Resources"].as_array().map(Vec::len),
            Some(total),
            "{endpoint}"
        );
        let paged = scim_answer(
            server.get(
                &format!(
                    "/scim/v2/{endpoint}?startIndex=2&count=1&sortBy=name&sortOrder=descending"
                ),
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(paged, plain, "{endpoint}: parameters are ignored");
    }
    let config = scim_answer(
        server.get(
            "/scim/v2/ServiceProviderConfig?count=1&attributes=bulk",
            &token,
        ),
        StatusCode::OK,
    )
    .await;
    assert_eq!(config["patch"]["supported"], true);
    // One by id: the definition itself, not a list.
    for (path, schema, id) in [
        (
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Schema",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ),
        (
            "/scim/v2/ResourceTypes/Group?startIndex=3",
            "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
            "Group",
        ),
    ] {
        let one = scim_answer(server.get(path, &token), StatusCode::OK).await;
        assert_eq!(
            (one["schemas"][0].as_str(), one["id"].as_str()),
            (Some(schema), Some(id))
        );
        assert!(one.get("Resources").is_none(), "{path}");
    }
    for path in [
        "/scim/v2/Schemas/urn:nope",
        "/scim/v2/ResourceTypes/Printer",
    ] {
        let error = scim_answer(server.get(path, &token), StatusCode::NOT_FOUND).await;
        assert_eq!(
            (error["schemas"][0].as_str(), error["status"].as_str()),
            (Some(ERROR), Some("404")),
            "{path}"
        );
    }
}

both_backends!(
    discovery_refuses_filters_and_ignores_other_parameters,
    a_password_filter_in_the_uri_is_sensitive,
    endpoint_names_ignore_case_and_a_trailing_slash,
    service_provider_config_says_what_is_served,
    resource_types_and_schemas_are_listed_and_found,
    scim_refuses_missing_wrong_and_underprivileged_tokens_in_scim_format,
);
