//! OpenID Connect discovery for signed webhook messages (Xurrent's): a webhook with
//! `openid_connect_discovery` sends messages whose `iss` is its policy's issuer,
//! `<account URL>/webhook_policies/<policy name>`. Given only that `iss`, a receiver reads
//! `<iss>/.well-known/openid-configuration`, follows its `jwks_uri` and picks the key by the
//! message's `kid`. Both are public (public keys are no secret) and cacheable for an hour; a
//! policy that no such webhook links to has no issuer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ErrorBody};
use crate::http::AppState;
use crate::http::error::ApiResult;

/// How long receivers may cache the issuer's documents: a rotation's overlap is longer (a day
/// by default), so a receiver that honours it learns of the next key before it signs.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// Routes that take no bearer token.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openid_configuration))
        .routes(routes!(jwks))
}

/// The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3) a receiver needs to verify
/// messages: where the keys are, and how they sign.
#[derive(Serialize, utoipa::ToSchema)]
struct OpenIdConfiguration {
    /// Exactly the `iss` of the messages.
    issuer: String,
    /// `<issuer>/jwks`.
    jwks_uri: String,
    /// The policy's JOSE algorithm (`ES256`, …).
    id_token_signing_alg_values_supported: Vec<&'static str>,
    response_types_supported: Vec<&'static str>,
    subject_types_supported: Vec<&'static str>,
    claims_supported: Vec<&'static str>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Serialize, utoipa::ToSchema)]
struct JwkSet {
    /// The key that signs now and, during a rotation, the next one: each with `kid`, `kty`,
    /// `use` (`sig`) and `alg`.
    #[schema(value_type = Vec<std::collections::HashMap<String, serde_json::Value>>)]
    keys: Vec<serde_json::Value>,
}

/// The OpenID Connect discovery document of a webhook policy's issuer.
#[utoipa::path(
    get, path = "/accounts/{account}/webhook_policies/{name}/.well-known/openid-configuration",
    tag = "webhook_policies", security(()),
    operation_id = "get_policy_openid_configuration",
    params(
        ("account" = String, Path, description = "The account's id"),
        ("name" = String, Path, description = "The policy's name"),
    ),
    responses(
        (status = 200, description = "The issuer's metadata; Cache-Control: max-age=3600", body = OpenIdConfiguration),
        (status = 404, description = "No policy of that name has a webhook asking for discovery", body = ErrorBody),
    )
)]
async fn openid_configuration(
    State(state): State<AppState>,
    ApiPath((account, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let issuer = state.services.policy_issuer(&account, &name).await?;
    let document = OpenIdConfiguration {
        jwks_uri: format!("{}/jwks", issuer.issuer),
        issuer: issuer.issuer,
        id_token_signing_alg_values_supported: vec![issuer.algorithm.jose_name()],
        response_types_supported: vec!["id_token"],
        subject_types_supported: vec!["public"],
        claims_supported: vec!["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "data"],
    };
    Ok(cacheable(Json(document)))
}

/// The public keys of a webhook policy's issuer.
#[utoipa::path(
    get, path = "/accounts/{account}/webhook_policies/{name}/jwks",
    tag = "webhook_policies", security(()),
    operation_id = "get_policy_jwks",
    params(
        ("account" = String, Path, description = "The account's id"),
        ("name" = String, Path, description = "The policy's name"),
    ),
    responses(
        (status = 200, description = "The JWK Set; Cache-Control: max-age=3600", body = JwkSet),
        (status = 404, description = "No policy of that name has a webhook asking for discovery", body = ErrorBody),
    )
)]
async fn jwks(
    State(state): State<AppState>,
    ApiPath((account, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let issuer = state.services.policy_issuer(&account, &name).await?;
    Ok(cacheable(Json(JwkSet { keys: issuer.keys })))
}

fn cacheable(body: impl IntoResponse) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}
